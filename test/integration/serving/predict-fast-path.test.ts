/**
 * The predict path answers most calls at once (model resident, counters in
 * memory, a free slot, nobody waiting) and the rest through the queue; both
 * must give the same predictions, charge the same rows and count one cache
 * hit per call.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { predictBatch } from '../../../src/gbdt/index.js';
import { resolveTenantLimits } from '../../../src/limits/tenant-limits.js';
import { compiledLayoutKey } from '../../../src/models/artifact-publish.js';
import type { ModelCacheEvent } from '../../../src/serving/model-cache-stats.js';
import { cacheKeyOf } from '../../../src/serving/model-serving.js';
import { publishModel, tinyModel } from '../../support/serving-models.js';
import { startTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const model = tinyModel(8, 3);
let t: TestPlatform;

before(async () => {
  t = await startTestPlatform({ TENANTML_COMPUTE_SLOTS: '1' });
});
after(() => t.close());

const rowsOf = (n: number, seed: number) => Array.from({ length: n }, (_, i) => [(i * 7 + seed) % 10, (i * 3 + seed) % 10, (i + seed) % 10]);
const expected = (rows: number[][]) => Array.from(predictBatch(model, Float32Array.from(rows.flat())));

describe('predict, answered at once or queued', () => {
  test('gives the same predictions, charges every row once and counts one hit per call', async () => {
    const q = await t.createTenant('fast-path', { limits: { requestsPerSecond: 10_000, burst: 10_000 } });
    await publishModel(t.platform, q.id, 'm', model);
    const events: ModelCacheEvent['type'][] = [];
    const stop = t.platform.serving.onCacheEvent((e) => {
      if (e.key.tenantId === q.id) events.push(e.type);
    });
    let rowsSent = 0;
    // The first call resolves the version and loads the model (queued path); the others are answered at once.
    for (let call = 0; call < 20; call++) {
      const rows = rowsOf(1 + (call % 4), call);
      rowsSent += rows.length;
      const res = await t.call(q.key, 'POST', '/v1/models/m/predict', call % 2 ? { instances: rows } : { rows: rows.map(([x0, x1, x2]) => ({ x0, x1, x2 })) });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as { predictions: number[]; model: { version: number } };
      assert.deepEqual(body.predictions, expected(rows).map((v) => Math.fround(v)));
      assert.equal(body.model.version, 1);
    }
    // The service answers at once now; a name it has not resolved yet needs the queued path.
    const tenant = { tenantId: q.id, limits: resolveTenantLimits({ requestsPerSecond: 10_000, burst: 10_000 }) };
    const { predictions: service } = t.platform.models;
    assert.deepEqual(service.predictNow(tenant, 'm', { instances: [[1, 2, 3]] })?.predictions, expected([[1, 2, 3]]).map((v) => Math.fround(v)));
    rowsSent += 1;
    assert.equal(service.predictNow(tenant, 'other', { instances: [[1, 2, 3]] }), undefined);
    // Concurrent calls: some wait for the slot, some do not; all are answered and charged.
    const concurrent = await Promise.all(Array.from({ length: 30 }, (_, i) => t.call(q.key, 'POST', '/v1/models/m/predict', { instances: rowsOf(2, i) })));
    rowsSent += 60;
    for (const [i, res] of concurrent.entries()) assert.deepEqual((res.json() as { predictions: number[] }).predictions, expected(rowsOf(2, i)).map((v) => Math.fround(v)));
    stop();
    assert.equal(events.filter((e) => e === 'load').length, 1);
    assert.equal(events.filter((e) => e === 'hit').length + events.filter((e) => e === 'miss').length, 51, 'one cache look-up per call');
    const { predictions } = (await t.call(q.key, 'GET', '/v1/usage')).json() as { predictions: { day: { used: number }; month: { used: number } } };
    assert.deepEqual([predictions.day.used, predictions.month.used], [rowsSent, rowsSent]);
  });

  test('a cold model is loaded from its compiled layout and answered at once; without a layout it is queued', async () => {
    const q = await t.createTenant('fast-path-cold', { limits: { requestsPerSecond: 10_000, burst: 10_000 } });
    await publishModel(t.platform, q.id, 'm', model);
    // A first call reads the version and the usage counters into memory; then the model leaves the cache.
    assert.equal((await t.call(q.key, 'POST', '/v1/models/m/predict', { instances: [[1, 2, 3]] })).statusCode, 200);
    const target = await t.platform.serving.target(q.id, 'm');
    t.platform.serving.cache.invalidateTenant(q.id);
    const tenant = { tenantId: q.id, limits: resolveTenantLimits({ requestsPerSecond: 10_000, burst: 10_000 }) };
    const events: ModelCacheEvent['type'][] = [];
    const stop = t.platform.serving.onCacheEvent((e) => {
      if (e.key.tenantId === q.id) events.push(e.type);
    });
    const { predictions: service } = t.platform.models;
    assert.deepEqual(service.predictNow(tenant, 'm', { instances: [[4, 5, 6]] })?.predictions, expected([[4, 5, 6]]).map((v) => Math.fround(v)));
    assert.deepEqual(events, ['miss', 'load']);
    assert.ok(t.platform.serving.cache.has(cacheKeyOf(target)), 'and kept');

    // No compiled layout to read: nothing is loaded or charged at once, and the queued path compiles the artifact.
    t.platform.serving.cache.invalidateTenant(q.id);
    const layout = t.platform.artifacts.localPath!(compiledLayoutKey(target.artifactKey));
    rmSync(layout);
    events.length = 0;
    assert.equal(service.predictNow(tenant, 'm', { instances: [[4, 5, 6]] }), undefined);
    assert.deepEqual(events, []);
    const res = await t.call(q.key, 'POST', '/v1/models/m/predict', { instances: [[4, 5, 6]] });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(events, ['miss', 'load']);
    stop();
    const { predictions } = (await t.call(q.key, 'GET', '/v1/usage')).json() as { predictions: { day: { used: number } } };
    assert.equal(predictions.day.used, 3, 'each call charged once');
  });

  test('bad input is refused the same way on both paths', async () => {
    const q = await t.createTenant('fast-path-bad');
    await publishModel(t.platform, q.id, 'm', model);
    assert.equal((await t.call(q.key, 'POST', '/v1/models/m/predict', { instances: [[1, 2, 3]] })).statusCode, 200); // resident now
    const bad = await t.call(q.key, 'POST', '/v1/models/m/predict', { instances: [[1, 2, 3], [1, 'two', 3]] });
    assert.equal(bad.statusCode, 400);
    assert.match((bad.json() as { error: { message: string } }).error.message, /instances\[1\]\[1\]: expected a number/);
    const both = await t.call(q.key, 'POST', '/v1/models/m/predict', { instances: [[1, 2, 3]], rows: [{ x0: 1 }] });
    assert.equal(both.statusCode, 400);
    const { predictions } = (await t.call(q.key, 'GET', '/v1/usage')).json() as { predictions: { day: { used: number } } };
    assert.equal(predictions.day.used, 1, 'refused calls charge nothing');
  });
});
