import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isAppError } from '../../../src/errors.js';
import { artifactKey, tenantArtifactPrefix } from '../../../src/storage/artifact-key.js';
import {
  type ArtifactStore,
  type ArtifactStoreConfig,
  createArtifactStore,
  createRawArtifactStore,
} from '../../../src/storage/artifact-store.js';
import { startTestS3Server, type TestS3Server } from '../../support/s3-server.js';

const REDIS_URL = process.env.TENANTML_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Backend {
  name: string;
  setup(): Promise<ArtifactStoreConfig>;
  teardown(): Promise<void>;
}

let folderDir = '';
let s3: TestS3Server | undefined;
const redisPrefix = `tenantml-test:${randomBytes(6).toString('hex')}:`;

const backends: Backend[] = [
  {
    name: 'folder',
    async setup() {
      folderDir = await mkdtemp(join(tmpdir(), 'tenantml-store-'));
      return { kind: 'folder', dir: folderDir };
    },
    async teardown() {
      await rm(folderDir, { recursive: true, force: true });
    },
  },
  {
    name: 'redis',
    async setup() {
      return { kind: 'redis', url: REDIS_URL, prefix: redisPrefix };
    },
    async teardown() {
      const cleaner = createRawArtifactStore({ kind: 'redis', url: REDIS_URL, prefix: redisPrefix });
      await cleaner.deletePrefix('');
      await cleaner.close();
    },
  },
  {
    name: 's3',
    async setup() {
      s3 = await startTestS3Server();
      return {
        kind: 's3',
        endpoint: s3.endpoint,
        bucket: s3.bucket,
        region: 'us-east-1',
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        forcePathStyle: true,
        prefix: `run-${randomBytes(4).toString('hex')}/`,
      };
    },
    async teardown() {
      await s3?.stop();
    },
  },
];

const bytes = (...values: number[]) => new Uint8Array(values);
const modelKey = (tenantId: string, name: string, version = 1) =>
  artifactKey({ tenantId, kind: 'models', name, version, file: 'model.tml' });

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isAppError(error), `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected a '${code}' error`);
}

for (const backend of backends) {
  describe(`artifact store: ${backend.name}`, () => {
    let config: ArtifactStoreConfig;
    let store: ArtifactStore;
    let raw: ArtifactStore;

    before(async () => {
      config = await backend.setup();
      store = createArtifactStore(config);
      raw = createRawArtifactStore(config);
    });
    after(async () => {
      await store.close();
      await raw.close();
      await backend.teardown();
    });

    test('put then get returns the same bytes; a missing key is null', async () => {
      const key = modelKey('t1', 'churn');
      const payload = randomBytes(10_000);
      await store.put(key, payload);
      assert.deepEqual(Buffer.from((await store.get(key)) ?? []), payload);
      assert.equal(await store.exists(key), true);
      assert.equal(await store.get(modelKey('t1', 'nope')), null);
      assert.equal(await store.exists(modelKey('t1', 'nope')), false);
    });

    test('overwrite replaces the whole object; delete reports whether it existed', async () => {
      const key = modelKey('t1', 'overwrite');
      await store.put(key, bytes(1, 2, 3, 4, 5, 6));
      await store.put(key, bytes(9));
      assert.deepEqual(await store.get(key), bytes(9));
      assert.equal(await store.delete(key), true);
      assert.equal(await store.delete(key), false);
      assert.equal(await store.get(key), null);
    });

    test('list and deletePrefix match by prefix and never cross into a similarly named tenant', async () => {
      await store.put(modelKey('acme', 'a', 1), bytes(1));
      await store.put(modelKey('acme', 'a', 2), bytes(2));
      await store.put(modelKey('acme', 'b', 1), bytes(3));
      await store.put(modelKey('acme2', 'a', 1), bytes(4));
      assert.deepEqual(await store.list('tenants/acme/models/a/'), [modelKey('acme', 'a', 1), modelKey('acme', 'a', 2)]);
      assert.deepEqual(await store.list(tenantArtifactPrefix('acme')), [
        modelKey('acme', 'a', 1),
        modelKey('acme', 'a', 2),
        modelKey('acme', 'b', 1),
      ]);
      assert.equal((await store.list('tenants/acme')).length, 4, 'a partial segment prefix matches both tenants');
      assert.equal(await store.deletePrefix(tenantArtifactPrefix('acme')), 3);
      assert.deepEqual(await store.list(tenantArtifactPrefix('acme')), []);
      assert.deepEqual(await store.get(modelKey('acme2', 'a', 1)), bytes(4));
      assert.equal(await store.deletePrefix(tenantArtifactPrefix('acme')), 0);
    });

    test('list pages past one response (more than 1000 keys on S3) are all returned', async () => {
      const n = backend.name === 's3' ? 1005 : 300;
      const keys = Array.from({ length: n }, (_, i) => artifactKey({ tenantId: 'many', kind: 'models', name: 'm', version: i, file: 'f' }));
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => raw.put(k, bytes(1))));
      assert.equal((await store.list('tenants/many/')).length, n);
      assert.equal(await store.deletePrefix('tenants/many/'), n);
      assert.deepEqual(await store.list('tenants/many/'), []);
    });

    test('readers racing a writer see the old or the new object, never a part', async () => {
      const key = modelKey('t1', 'race');
      const a = randomBytes(512 * 1024);
      const b = randomBytes(512 * 1024);
      await store.put(key, a);
      const writes = (async () => {
        for (let i = 0; i < 6; i++) await store.put(key, i % 2 === 0 ? b : a);
      })();
      let reads = 0;
      let done = false;
      void writes.finally(() => {
        done = true;
      });
      while (!done || reads < 5) {
        const got = Buffer.from((await store.get(key)) ?? []);
        assert.ok(got.equals(a) || got.equals(b), 'a read returned a partial or mixed object');
        reads++;
      }
      await writes;
    });

    test('a corrupt or truncated object is a clear error, never bytes', async () => {
      const key = modelKey('t1', 'corrupt');
      await store.put(key, bytes(1, 2, 3, 4));
      const sealed = await raw.get(key);
      assert.ok(sealed);
      const flipped = Uint8Array.from(sealed);
      flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 0xff;
      await raw.put(key, flipped);
      const error = await rejectsWithCode(store.get(key), 'internal');
      assert.match((error as Error).message, /corrupt.*checksum/);
      await raw.put(key, sealed.subarray(0, sealed.length - 2));
      assert.match(((await rejectsWithCode(store.get(key), 'internal')) as Error).message, /truncated/);
      await raw.put(key, bytes(1, 2, 3));
      await rejectsWithCode(store.get(key), 'internal');
    });

    test('keys that could escape their place are rejected', async () => {
      for (const key of ['../x', 'tenants/../x', '/abs', 'a//b', 'a/.hidden', 'a b', '']) {
        await rejectsWithCode(store.put(key, bytes(1)), 'validation_failed');
        await rejectsWithCode(store.get(key), 'validation_failed');
      }
      await rejectsWithCode(store.list('../'), 'validation_failed');
    });

    if (backend.name === 'folder') {
      test('the folder holds no temp files after writes', async () => {
        await store.put(modelKey('t9', 'tmp'), bytes(1));
        assert.deepEqual(await readdir(join(folderDir, '.tmp')), []);
        assert.ok((await store.list('')).every((k) => !k.includes('.tmp')));
      });
    }
  });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

describe('artifact store down', () => {
  test('redis at a closed port: unavailable quickly, for reads, writes and lists', async () => {
    const port = await closedPort();
    const store = createArtifactStore({ kind: 'redis', url: `redis://127.0.0.1:${port}`, prefix: redisPrefix, timeoutMs: 500 });
    try {
      const started = Date.now();
      await rejectsWithCode(store.get(modelKey('t1', 'x')), 'unavailable');
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
      await rejectsWithCode(store.put(modelKey('t1', 'x'), bytes(1)), 'unavailable');
      await rejectsWithCode(store.list(''), 'unavailable');
    } finally {
      await store.close();
    }
  });

  test('s3 server stopped: unavailable, not missing', async () => {
    const server = await startTestS3Server();
    const store = createArtifactStore({
      kind: 's3',
      endpoint: server.endpoint,
      bucket: server.bucket,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      timeoutMs: 1000,
    });
    try {
      await store.put(modelKey('t1', 'x'), bytes(7));
      assert.deepEqual(await store.get(modelKey('t1', 'x')), bytes(7));
      await server.stop();
      const started = Date.now();
      const error = await rejectsWithCode(store.get(modelKey('t1', 'x')), 'unavailable');
      assert.equal((error as { status: number }).status, 503);
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      await rejectsWithCode(store.exists(modelKey('t1', 'x')), 'unavailable');
    } finally {
      await store.close();
      await server.stop();
    }
  });

  test('s3 bucket missing is unavailable (misconfiguration), not a missing object', async () => {
    const server = await startTestS3Server();
    const store = createArtifactStore({
      kind: 's3',
      endpoint: server.endpoint,
      bucket: 'no-such-bucket',
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
    });
    try {
      await rejectsWithCode(store.get(modelKey('t1', 'x')), 'unavailable');
    } finally {
      await store.close();
      await server.stop();
    }
  });
});
