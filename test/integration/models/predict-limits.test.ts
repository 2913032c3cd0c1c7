/** `POST /v1/models/:name/predict` under the prediction quota and the fair scheduler, and its streamed CSV / NDJSON form. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { predictBatch } from '../../../src/gbdt/index.js';
import { FEATURES, publishModel, tinyModel } from '../../support/serving-models.js';
import { startTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const model = tinyModel(8, 3);
let t: TestPlatform;

before(async () => {
  // One slot: the ordering and shedding below depend on tasks queueing behind each other.
  t = await startTestPlatform({ TENANTML_COMPUTE_SLOTS: '1' });
  // The first model load starts the load thread (slow on a busy machine); done outside the scheduler, so that
  // start-up does not become its first estimate of a real-time row's cost and shed the 300-row requests below.
  const warm = await t.createTenant('predict-warm-up');
  await publishModel(t.platform, warm.id, 'm', model);
  await t.platform.serving.load(warm.id, 'm');
});
after(() => t.close());

const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => [(i * 7) % 10, (i * 3) % 10, i % 10] as [number, number, number]);
const expected = (rows: number[][]) => Array.from(predictBatch(model, Float32Array.from(rows.flat())));

describe('predict under the quota', () => {
  test('rows are charged one each; over the quota is 429 quota_exceeded with the reset time, and the refusal charges nothing', async () => {
    const q = await t.createTenant('predict-quota', { limits: { dailyPredictions: 5 } });
    await publishModel(t.platform, q.id, 'm', model);
    const predict = (n: number) => t.call(q.key, 'POST', '/v1/models/m/predict', { instances: rowsOf(n) });
    assert.equal((await predict(3)).statusCode, 200);
    const refused = await predict(3);
    assert.equal(refused.statusCode, 429);
    const body = refused.json() as { error: { code: string; details?: { resetAt?: string } } };
    assert.equal(body.error.code, 'quota_exceeded');
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.ok(body.error.details?.resetAt && Date.parse(body.error.details.resetAt) > Date.now(), 'the reset time is given');
    assert.equal((await predict(2)).statusCode, 200, '3 + 2 rows fit a quota of 5');
    assert.equal((await predict(1)).statusCode, 429);
  });

  test('streamed rows count too', async () => {
    const q = await t.createTenant('predict-quota-csv', { limits: { dailyPredictions: 4 } });
    await publishModel(t.platform, q.id, 'm', model);
    const csv = (n: number) => `${FEATURES.join(',')}\n${rowsOf(n).map((r) => r.join(',')).join('\n')}\n`;
    assert.equal((await t.call(q.key, 'POST', '/v1/models/m/predict', csv(3), { 'content-type': 'text/csv' })).statusCode, 200);
    const refused = await t.call(q.key, 'POST', '/v1/models/m/predict', csv(2), { 'content-type': 'text/csv' });
    assert.equal(refused.statusCode, 429);
    assert.equal((refused.json() as { error: { code: string } }).error.code, 'quota_exceeded');
  });
});

describe('predict on the fair scheduler', () => {
  test("a large batch of tenant A does not hold back tenant B's single-row predict", async () => {
    const a = await t.createTenant('predict-big');
    const b = await t.createTenant('predict-small');
    await publishModel(t.platform, a.id, 'm', model);
    await publishModel(t.platform, b.id, 'm', model);
    const big = rowsOf(60_000);
    const order: string[] = [];
    const batch = t
      .call(a.key, 'POST', '/v1/models/m/predict', `${big.map((r) => JSON.stringify({ x0: r[0], x1: r[1], x2: r[2] })).join('\n')}\n`, {
        'content-type': 'application/x-ndjson',
      })
      .then((res) => {
        order.push('A');
        return res;
      });
    // Wait until A's batch is computing (its first slice has started).
    while (t.platform.compute.stats(a.id).started === 0) await tick();
    const single = await t.call(b.key, 'POST', '/v1/models/m/predict', { rows: [{ x0: 1, x1: 2, x2: 3 }] });
    order.push('B');
    assert.equal(single.statusCode, 200);
    assert.ok(t.platform.compute.stats(a.id).started < 30, 'A still had slices to run when B was answered');
    const res = await batch;
    assert.equal(res.statusCode, 200);
    assert.deepEqual(order, ['B', 'A']);
    const predictions = (res.json() as { predictions: number[] }).predictions;
    assert.equal(predictions.length, big.length);
    assert.deepEqual(predictions.slice(-5), expected(big.slice(-5)));
  });

  test('work that cannot finish before its deadline is shed with 503 and Retry-After', async () => {
    const s = await t.createTenant('predict-shed');
    await publishModel(t.platform, s.id, 'm', model);
    // One predict teaches the scheduler its real-time cost per row.
    assert.equal((await t.call(s.key, 'POST', '/v1/models/m/predict', { instances: rowsOf(10) })).statusCode, 200);
    let release!: () => void;
    // Costed high, so the time it is held does not teach the scheduler that a real-time row takes milliseconds.
    const hold = t.platform.compute.run({ tenantId: 'hold', lane: 'realtime', cost: 1e6 }, () => new Promise<void>((r) => (release = r)));
    // Queued behind the hold: work of this tenant that would take far longer than a real-time deadline.
    const backlog = t.platform.compute.run({ tenantId: s.id, lane: 'realtime', cost: 1e12 }, () => undefined);
    try {
      const res = await t.call(s.key, 'POST', '/v1/models/m/predict', { instances: rowsOf(1) });
      assert.equal(res.statusCode, 503);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'overloaded');
      assert.ok(Number(res.headers['retry-after']) >= 1);
    } finally {
      release();
      await hold;
      await backlog.catch(() => undefined);
    }
    assert.equal((await t.call(s.key, 'POST', '/v1/models/m/predict', { instances: rowsOf(1) })).statusCode, 200, 'served again once the backlog is gone');
  });
});

describe('streamed predict bodies', () => {
  let who: { id: string; key: string };
  before(async () => {
    who = await t.createTenant('predict-stream');
    await publishModel(t.platform, who.id, 'm', model);
  });

  test('CSV: predictions in row order, equal to the JSON form; columns by name, extra ones ignored', async () => {
    const rows = rowsOf(5000);
    const csv = `note,x2,x0,x1\n${rows.map((r, i) => `n${i},${r[2]},${r[0]},${r[1]}`).join('\n')}\n`;
    const res = await t.call(who.key, 'POST', '/v1/models/m/predict', csv, { 'content-type': 'text/csv' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { predictions: number[]; model: { name: string; version: number } };
    assert.deepEqual(body.predictions, expected(rows));
    assert.equal(body.model.name, 'm');
    const json = await t.call(who.key, 'POST', '/v1/models/m/predict', { instances: rows.slice(0, 100) });
    assert.deepEqual((json.json() as { predictions: number[] }).predictions, body.predictions.slice(0, 100));
  });

  test('NDJSON: predictions in row order; missing values are allowed', async () => {
    const rows = rowsOf(300);
    const ndjson = rows.map((r) => JSON.stringify({ x0: r[0], x1: r[1], x2: r[2] })).join('\n');
    const res = await t.call(who.key, 'POST', '/v1/models/m/predict', ndjson, { 'content-type': 'application/x-ndjson' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual((res.json() as { predictions: number[] }).predictions, expected(rows));
    const sparse = await t.call(who.key, 'POST', '/v1/models/m/predict', '{"x0": 1}\n{"x1": null, "x2": 4}\n', { 'content-type': 'application/x-ndjson' });
    assert.equal(sparse.statusCode, 200);
    assert.equal((sparse.json() as { predictions: number[] }).predictions.length, 2);
  });

  test('a bad line is 400 naming it', async () => {
    const ndjson = '{"x0": 1, "x1": 2, "x2": 3}\n{"x0": 1, "x1": 2, "x2": 3}\n{"x0": 1, oops\n';
    const bad = await t.call(who.key, 'POST', '/v1/models/m/predict', ndjson, { 'content-type': 'application/x-ndjson' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /line 3/);
    const csv = 'x0,x1,x2\n1,2,3\n4,five,6\n';
    const badCsv = await t.call(who.key, 'POST', '/v1/models/m/predict', csv, { 'content-type': 'text/csv' });
    assert.equal(badCsv.statusCode, 400);
    assert.match(badCsv.body, /line 3, x1/);
  });

  test('an over-large JSON body is 413 naming the streamed forms', async () => {
    const res = await t.call(who.key, 'POST', '/v1/models/m/predict', JSON.stringify({ instances: rowsOf(600_000) }), { 'content-type': 'application/json' });
    assert.equal(res.statusCode, 413);
    assert.match(res.body, /text\/csv/);
    assert.match(res.body, /application\/x-ndjson/);
  });
});
