/**
 * Two real server processes on one PostgreSQL database, one Redis (bus) and
 * one Redis artifact store: a version published and promoted through one
 * replica is served by the other within a second although the other had the
 * old version cached; a deleted version or model stops being served there
 * within a second; a purged tenant's models leave the other replica's cache.
 * The measured times are printed on stderr. (Servers mode only.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { compilePredictor, exportXgboostJson, type GbdtModel } from '../../src/gbdt/index.js';
import { createRawArtifactStore } from '../../src/storage/artifact-store.js';
import { tinyModel } from '../support/serving-models.js';
import { type ServerProcess, startServerProcess } from '../support/server-process.js';
import { createServerDatabase, REDIS_URL, testMode } from '../support/test-database.js';

const ADMIN = 'tmladm_multi-replica-serving-key';
const ROW = [2, 7, 1];

// biome-ignore lint/suspicious/noExplicitAny: response bodies of several shapes, read field by field
type Json = Record<string, any>;

async function call(server: ServerProcess, key: string, method: string, path: string, body?: unknown, raw?: string) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as Json };
}

/** Polls until `check` holds; returns how long it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (await check()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`not within ${ms} ms`);
}

const expected = (model: GbdtModel) => compilePredictor(model).predictRow(Float32Array.from(ROW));

if (testMode() === 'servers') {
  describe('two serving replicas', () => {
    let one: ServerProcess;
    let two: ServerProcess;
    let drop: () => Promise<void>;
    const prefix = `mrs-${randomBytes(4).toString('hex')}:`;

    before(async () => {
      const db = await createServerDatabase();
      drop = db.drop;
      const env = { DATABASE_URL: db.url, REDIS_URL, TENANTML_REDIS_PREFIX: prefix, TENANTML_ADMIN_KEY: ADMIN, TENANTML_ARTIFACT_STORE: 'redis', TENANTML_TRAINING_WORKERS: '0' };
      [one, two] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    });
    after(async () => {
      await one?.stop();
      await two?.stop();
      await drop?.();
      const store = createRawArtifactStore({ kind: 'redis', url: REDIS_URL, prefix: `${prefix}artifacts:` });
      await store.deletePrefix('');
      await store.close();
    });

    test('publish, promote, delete and purge through one replica reach the other within 1 s', async () => {
      const created = await call(one, ADMIN, 'POST', '/v1/admin/tenants', { id: 'served', name: 'S' });
      assert.equal(created.status, 201);
      const key = created.json.apiKey as string;
      const predictOn = (server: ServerProcess) => call(server, key, 'POST', '/v1/models/churn/predict', { instances: [ROW] });

      const v1 = tinyModel(10, 1);
      const v2 = tinyModel(10, 6);
      assert.notEqual(expected(v1), expected(v2));
      assert.equal((await call(one, key, 'POST', '/v1/models/churn/versions', undefined, exportXgboostJson(v1))).status, 201);
      const first = await predictOn(two);
      assert.equal(first.status, 200);
      assert.equal(first.json.model.version, 1);
      assert.deepEqual(first.json.predictions, [expected(v1)]);

      // A new version, promoted through replica one; replica two has version 1 cached.
      assert.equal((await call(one, key, 'POST', '/v1/models/churn/versions', undefined, exportXgboostJson(v2))).status, 201);
      assert.equal((await call(one, key, 'POST', '/v1/models/churn/aliases/production', { version: 2 })).status, 200);
      const promotedMs = await within(1000, async () => {
        const res = await predictOn(two);
        return res.json.model.version === 2 && res.json.predictions[0] === expected(v2);
      });

      // Deleting version 2: production rolls back to 1 and version 2 is served nowhere.
      assert.equal((await call(two, key, 'POST', '/v2/models/churn/versions/2/infer', { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: ROW }] })).status, 200);
      assert.equal((await call(one, key, 'DELETE', '/v1/models/churn/versions/2')).status, 204);
      const deletedVersionMs = await within(1000, async () => {
        const [res, v2res] = await Promise.all([
          predictOn(two),
          call(two, key, 'POST', '/v2/models/churn/versions/2/infer', { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: ROW }] }),
        ]);
        return res.json.model.version === 1 && v2res.status === 404;
      });

      // Deleting the model.
      assert.equal((await call(one, key, 'DELETE', '/v1/models/churn')).status, 200);
      const deletedModelMs = await within(1000, async () => (await predictOn(two)).status === 404);

      // Purging the tenant: its key stops working and its models leave replica two's cache.
      assert.equal((await call(one, key, 'POST', '/v1/models/other/versions', undefined, exportXgboostJson(v1))).status, 201);
      assert.equal((await call(two, key, 'POST', '/v1/models/other/predict', { instances: [ROW] })).status, 200);
      const loaded = await call(two, ADMIN, 'GET', '/v1/admin/serving');
      assert.ok(loaded.json.entries.some((e: { tenantId: string }) => e.tenantId === 'served'));
      assert.equal((await call(one, ADMIN, 'DELETE', '/v1/admin/tenants/served')).status, 200);
      const purgedMs = await within(1000, async () => {
        const [res, admin] = await Promise.all([call(two, key, 'POST', '/v1/models/other/predict', { instances: [ROW] }), call(two, ADMIN, 'GET', '/v1/admin/serving')]);
        return res.status === 401 && !admin.json.entries.some((e: { tenantId: string }) => e.tenantId === 'served');
      });
      process.stderr.write(
        `cross-replica serving: promote ${promotedMs.toFixed(0)} ms, delete version ${deletedVersionMs.toFixed(0)} ms, delete model ${deletedModelMs.toFixed(0)} ms, purge ${purgedMs.toFixed(0)} ms\n`,
      );
    });
  });
}
