/**
 * Streamed predictions on the batch-prediction thread, through the API: a bad
 * line deep in a large body, a batch that fails after it was charged, and a
 * client that goes away mid-upload.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FEATURES, publishModel, tinyModel } from '../../support/serving-models.js';
import { startTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const model = tinyModel(8, 3);
let t: TestPlatform;

before(async () => {
  t = await startTestPlatform({ TENANTML_BATCH_PREDICT_THREADS: '1' });
});
after(() => t.close());

const csvOf = (n: number, bad?: { line: number; text: string }) =>
  `${FEATURES.join(',')}\n${Array.from({ length: n }, (_, i) => (bad && i + 2 === bad.line ? bad.text : `${i % 10},${(i * 3) % 10},${i % 7}`)).join('\n')}\n`;

async function predictionsUsedToday(key: string): Promise<number> {
  const res = await t.call(key, 'GET', '/v1/usage');
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { predictions: { day: { used: number } } }).predictions.day.used;
}

async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('the batch path is on: streamed bodies run on the thread, and nothing stays open after them', async () => {
  const who = await t.createTenant('batch-on');
  await publishModel(t.platform, who.id, 'm', model);
  assert.ok(t.platform.models.batches, 'a batch pool is configured');
  const res = await t.call(who.key, 'POST', '/v1/models/m/predict', csvOf(3000), { 'content-type': 'text/csv' });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal((res.json() as { predictions: number[] }).predictions.length, 3000);
  await until(() => t.platform.models.batches!.activeSessions() === 0, 'the session to end');
});

test('a bad value deep in a large body is a 400 naming its line, and nothing is charged', async () => {
  const who = await t.createTenant('batch-bad-line');
  await publishModel(t.platform, who.id, 'm', model);
  const csv = await t.call(who.key, 'POST', '/v1/models/m/predict', csvOf(80_000, { line: 40_001, text: '1,2,NaN' }), { 'content-type': 'text/csv' });
  assert.equal(csv.statusCode, 400);
  assert.equal((csv.json() as { error: { message: string } }).error.message, 'line 40001, x2: expected a number, got "NaN"');
  const lines = Array.from({ length: 50_000 }, (_, i) => (i === 30_000 ? '{"x0": 1, "x1": "two"}' : JSON.stringify({ x0: i % 10, x1: 1, x2: 2 })));
  const ndjson = await t.call(who.key, 'POST', '/v1/models/m/predict', lines.join('\n'), { 'content-type': 'application/x-ndjson' });
  assert.equal(ndjson.statusCode, 400);
  assert.equal((ndjson.json() as { error: { message: string } }).error.message, 'line 30001, x1: expected a number, got "two"');
  assert.equal(await predictionsUsedToday(who.key), 0);
});

test('a batch that fails on the thread after it was charged is refunded', async () => {
  const who = await t.createTenant('batch-refund', { limits: { dailyPredictions: 10_000 } });
  const info = await publishModel(t.platform, who.id, 'm', model);
  // The artifact goes missing: the rows are read and charged, then the first slice cannot load the model.
  await t.platform.artifacts.delete(info.artifact.key);
  const res = await t.call(who.key, 'POST', '/v1/models/m/predict', csvOf(6000), { 'content-type': 'text/csv' });
  assert.equal(res.statusCode, 404, res.body);
  assert.match(res.body, /model version 'm@1' not found/);
  assert.equal(await predictionsUsedToday(who.key), 0, 'the 6,000 rows were refunded');
});

test('a client that goes away mid-upload stops the thread and is charged nothing', async () => {
  const who = await t.createTenant('batch-gone');
  await publishModel(t.platform, who.id, 'm', model);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  const pool = t.platform.models.batches!;
  const upload = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v1/models/m/predict',
    headers: { authorization: `Bearer ${who.key}`, 'content-type': 'text/csv' },
  });
  upload.on('error', () => {});
  upload.on('response', (res) => res.resume());
  upload.write(`${FEATURES.join(',')}\n`);
  const rows = `${Array.from({ length: 2000 }, (_, i) => `${i % 10},1,2`).join('\n')}\n`;
  let sent = 0;
  for (; sent < 40 || pool.activeSessions() === 0; sent++) {
    upload.write(rows);
    await sleep(5);
    assert.ok(sent < 2000, 'the upload reached the batch thread');
  }
  upload.destroy();
  await until(() => pool.activeSessions() === 0, 'the thread to drop the cancelled batch');
  assert.equal(t.platform.compute.stats(who.id).started, 0, 'no slice was scheduled');
  assert.equal(await predictionsUsedToday(who.key), 0);
  // The thread is free for the next batch.
  const next = await t.call(who.key, 'POST', '/v1/models/m/predict', csvOf(10), { 'content-type': 'text/csv' });
  assert.equal(next.statusCode, 200, next.body);
});
