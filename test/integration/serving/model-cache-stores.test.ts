/**
 * The predict path through the model cache, against each real artifact store
 * (folder, Redis, the S3-compatible test server): the byte budget holds, 100
 * concurrent first requests over HTTP cause one load, a corrupt, replaced or
 * missing artifact is a clear error and never a prediction, and with the store
 * down cached models keep serving while cold ones get 503 with Retry-After.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compilePredictor, type GbdtModel, serializeModel } from '../../../src/gbdt/index.js';
import { compiledLayoutKey } from '../../../src/models/artifact-publish.js';
import { createArtifactStore, createRawArtifactStore } from '../../../src/storage/artifact-store.js';
import { until } from '../models/model-test-support.js';
import { publishModel, tinyModel } from '../../support/serving-models.js';
import { startTestS3Server, type TestS3Server } from '../../support/s3-server.js';
import { REDIS_URL } from '../../support/test-database.js';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';

const ROW = [3, 1, 4];
const predicted = (model: GbdtModel) => compilePredictor(model).predictRow(Float32Array.from(ROW));
const sizeOf = (model: GbdtModel) => compilePredictor(model, 'arrays').sizeBytes; // what the cache counts
const MODELS = [1, 2, 3, 4].map((seed) => tinyModel(20, seed));
const BUDGET = Math.floor(2.5 * Math.max(...MODELS.map(sizeOf)));

interface Backend {
  name: string;
  env(): Promise<Record<string, string>>;
  /** Makes the store unreachable, when the backend can be stopped here. */
  stop?(): Promise<void>;
  cleanup(): Promise<void>;
}

let s3: TestS3Server | undefined;
let folder = '';
const redisPrefix = `serving-test-${randomBytes(4).toString('hex')}:`;

const backends: Backend[] = [
  {
    name: 'folder',
    async env() {
      folder = mkdtempSync(join(tmpdir(), 'tenantml-serving-'));
      return { TENANTML_ARTIFACT_STORE: 'folder', TENANTML_ARTIFACT_DIR: folder };
    },
    async cleanup() {
      rmSync(folder, { recursive: true, force: true });
    },
  },
  {
    name: 'redis',
    async env() {
      return { TENANTML_ARTIFACT_STORE: 'redis', REDIS_URL, TENANTML_REDIS_PREFIX: redisPrefix };
    },
    async cleanup() {
      const store = createRawArtifactStore({ kind: 'redis', url: REDIS_URL, prefix: `${redisPrefix}artifacts:` });
      await store.deletePrefix('');
      await store.close();
    },
  },
  {
    name: 's3',
    async env() {
      s3 = await startTestS3Server();
      return {
        TENANTML_ARTIFACT_STORE: 's3',
        TENANTML_S3_BUCKET: s3.bucket,
        TENANTML_S3_ENDPOINT: s3.endpoint,
        TENANTML_S3_ACCESS_KEY_ID: s3.accessKeyId,
        TENANTML_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      };
    },
    stop: () => s3!.stop(),
    async cleanup() {
      await s3?.stop();
    },
  },
];

for (const backend of backends) {
  describe(`model cache on the ${backend.name} store`, () => {
    let t: TestPlatform;
    let tenant: TestTenant;
    const predict = (name: string, who = tenant) => t.call(who.key, 'POST', `/v1/models/${name}/predict`, { instances: [ROW] });

    before(async () => {
      t = await startTestPlatform({ ...(await backend.env()), TENANTML_MODEL_CACHE_BYTES: String(BUDGET), TENANTML_MODEL_CACHE_TENANT_SHARE: '100' });
      tenant = await t.createTenant(`store-${backend.name}`);
      for (const [i, model] of MODELS.entries()) await publishModel(t.platform, tenant.id, `m${i}`, model);
    });
    after(async () => {
      await t.close();
      await backend.cleanup();
    });

    test('the byte budget holds while every model is served correctly', async () => {
      for (let round = 0; round < 3; round++) {
        for (const [i, model] of MODELS.entries()) {
          const res = await predict(`m${i}`);
          assert.equal(res.statusCode, 200, res.body);
          assert.deepEqual(res.json().predictions, [predicted(model)]);
          const snap = t.platform.serving.cache.snapshot();
          assert.ok(snap.residentBytes <= BUDGET, `${snap.residentBytes} > ${BUDGET}`);
        }
      }
      const stats = t.platform.serving.cache.stats().tenants[tenant.id]!;
      assert.ok(stats.residentEntries <= 2, 'at most two of the four fit');
      assert.ok(stats.loads > MODELS.length, `models were dropped and reloaded (${stats.loads} loads)`);
      assert.ok(stats.evictions + stats.notAdmitted > 0);
      assert.equal(t.platform.serving.cache.snapshot().transientBytes, 0, 'nothing is held once requests finish');
    });

    test('under churn, concurrent requests each get their own model\'s answer (dropped models\' memory is reused)', async () => {
      const before = t.platform.serving.layoutBuffers();
      const order = Array.from({ length: 120 }, (_, i) => (i * 7 + (i >> 3)) % MODELS.length);
      const answers = await Promise.all(order.map((i) => predict(`m${i}`)));
      for (const [n, res] of answers.entries()) {
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json().predictions, [predicted(MODELS[order[n]!]!)], `request ${n} (m${order[n]})`);
      }
      const stats = t.platform.serving.cache.stats().tenants[tenant.id]!;
      assert.ok(stats.evictions + stats.notAdmitted > 0, 'models were dropped meanwhile');
      if (backend.name === 'folder') {
        const after = t.platform.serving.layoutBuffers();
        assert.ok(after.reused > before.reused, `cold loads read into reused memory (${JSON.stringify(after)})`);
      }
      assert.equal(t.platform.serving.cache.snapshot().transientBytes, 0);
    });

    test('100 concurrent first requests over HTTP load the model once', async () => {
      const who = await t.createTenant(`flight-${backend.name}`);
      const model = tinyModel(30, 9);
      await publishModel(t.platform, who.id, 'hot', model);
      t.platform.serving.cache.clear(); // room for it: a full cache may rightly decline a one-off model
      const url = await t.app.listen({ port: 0, host: '127.0.0.1' });
      try {
        const responses = await Promise.all(
          Array.from({ length: 100 }, () =>
            fetch(`${url}/v1/models/hot/predict`, {
              method: 'POST',
              headers: { authorization: `Bearer ${who.key}`, 'content-type': 'application/json' },
              body: JSON.stringify({ instances: [ROW] }),
            }).then(async (r) => ({ status: r.status, body: (await r.json()) as { predictions: number[] } })),
          ),
        );
        for (const r of responses) {
          assert.equal(r.status, 200);
          assert.deepEqual(r.body.predictions, [predicted(model)]);
        }
      } finally {
        await t.app.server.close();
      }
      const stats = t.platform.serving.cache.stats().tenants[who.id]!;
      assert.equal(stats.loads, 1, 'one load for all 100');
      assert.equal(stats.hits + stats.misses, 100);
      const metrics = (await t.call(null, 'GET', '/metrics')).body;
      assert.match(metrics, new RegExp(`tenantml_model_loads_total\\{tenant="${who.id}",outcome="admitted"\\} 1\\n`));
    });

    test('a corrupt, replaced or missing artifact is a clear error, never a prediction', async () => {
      const who = await t.createTenant(`corrupt-${backend.name}`);
      const raw = createRawArtifactStore(t.platform.config.artifactStore);
      const sealed = createArtifactStore(t.platform.config.artifactStore);
      const damage = async (key: string) => {
        const bytes = (await raw.get(key))!;
        bytes[bytes.length - 10] = (bytes[bytes.length - 10]! + 1) % 256;
        await raw.put(key, bytes);
      };
      try {
        // A damaged compiled layout alone costs nothing but time: the artifact is compiled, served, and the layout rewritten.
        const layoutOnly = await publishModel(t.platform, who.id, 'layout-only', tinyModel(5, 1));
        const goodLayout = await raw.get(compiledLayoutKey(layoutOnly.artifact.key));
        assert.ok(goodLayout, 'the compiled layout is published next to the artifact');
        await damage(compiledLayoutKey(layoutOnly.artifact.key));
        const served = await predict('layout-only', who);
        assert.equal(served.statusCode, 200);
        assert.deepEqual(served.json().predictions, [Math.fround(compilePredictor(tinyModel(5, 1)).predictRow(ROW))]);
        await until('the layout to be rewritten', 10_000, async () => Buffer.from((await raw.get(compiledLayoutKey(layoutOnly.artifact.key)))!).equals(Buffer.from(goodLayout)));

        // The stored model damaged (artifact and layout): a clear error.
        const corrupt = await publishModel(t.platform, who.id, 'corrupt', tinyModel(5, 1));
        await damage(corrupt.artifact.key);
        await damage(compiledLayoutKey(corrupt.artifact.key));
        const res = await predict('corrupt', who);
        assert.equal(res.statusCode, 500);
        assert.match(res.json().error.message, /corrupt/);
        assert.equal(res.json().predictions, undefined);

        // Intact envelope, but not the bytes the registry published: refused by the digest check.
        const replaced = await publishModel(t.platform, who.id, 'replaced', tinyModel(5, 1));
        await sealed.put(replaced.artifact.key, serializeModel(tinyModel(5, 2)));
        await raw.delete(compiledLayoutKey(replaced.artifact.key));
        const res2 = await predict('replaced', who);
        assert.equal(res2.statusCode, 500);
        assert.match(res2.json().error.message, /does not match its registered digest/);

        const missing = await publishModel(t.platform, who.id, 'missing', tinyModel(5, 1));
        await raw.delete(missing.artifact.key);
        await raw.delete(compiledLayoutKey(missing.artifact.key));
        const res3 = await predict('missing', who);
        assert.equal(res3.statusCode, 404);
        assert.match(res3.json().error.message, /missing@1/);

        // Failures are not cached: a fixed artifact is served at once.
        await raw.put(corrupt.artifact.key, (await raw.get(replaced.artifact.key)) ?? new Uint8Array());
        const stats = t.platform.serving.cache.stats().tenants[who.id]!;
        assert.equal(stats.loadFailures, 3);
        assert.equal(stats.residentEntries, 1, 'only the model whose layout alone was damaged');
      } finally {
        await raw.close();
        await sealed.close();
      }
    });

    if (backend.stop) {
      test('store down: cached models keep serving, cold ones get 503 with Retry-After', async () => {
        const who = await t.createTenant(`down-${backend.name}`);
        const warmModel = tinyModel(5, 3);
        await publishModel(t.platform, who.id, 'warm', warmModel);
        await publishModel(t.platform, who.id, 'cold', tinyModel(5, 4));
        t.platform.serving.cache.clear();
        assert.equal((await predict('warm', who)).statusCode, 200);
        assert.ok(t.platform.serving.cache.has({ tenantId: who.id, model: 'warm', version: '1' }));
        await backend.stop!();
        const warm = await predict('warm', who);
        assert.equal(warm.statusCode, 200, warm.body);
        assert.deepEqual(warm.json().predictions, [predicted(warmModel)]);
        const cold = await predict('cold', who);
        assert.equal(cold.statusCode, 503, cold.body);
        assert.ok(Number(cold.headers['retry-after']) >= 1);
        assert.match(cold.json().error.message, /artifact store/);
      });
    }
  });
}
