/**
 * The model layer through HTTP: train (a job), registry contents, predict,
 * promote and roll back, delete, XGBoost import and export, bus events.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { InvalidationEvent } from '../../../src/serving/invalidation-bus.js';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';
import { trainAndWait, uploadDemand } from './model-test-support.js';

let t: TestPlatform;
let a: TestTenant;
const events: InvalidationEvent[] = [];
const TRAIN = { name: 'demand', dataset: 'sales', target: 'units', objective: 'count:poisson', features: ['store', 'product', 'price', 'promo'], params: { numBoostRound: 30 } };

before(async () => {
  t = await startTestPlatform({ TENANTML_JOB_POLL_MS: '20' });
  a = await t.createTenant('model-owner');
  await uploadDemand(t, a, 'sales', { seed: 7, stores: 2, products: 3, days: 60 });
  t.platform.bus.subscribe((e) => {
    if (e.type !== 'resync') events.push(e);
  });
});
after(() => t.close());

test('training answers 202 with a job, and the job reports progress, timings and its version', async () => {
  const res = await t.call(a.key, 'POST', '/v1/models', TRAIN);
  assert.equal(res.statusCode, 202, res.body);
  const { job } = res.json();
  assert.match(job.id, /^job_/);
  assert.ok(['queued', 'running'].includes(job.state));
  const done = await trainAndWait(t, a, TRAIN);
  assert.equal(done.progress.roundsDone, 30);
  assert.equal(typeof done.progress.validationError, 'number');
  assert.ok(done.progress.timings.readMs >= 0 && done.progress.timings.trainMs > 0);
  assert.ok(done.startedAt && done.finishedAt);
  assert.equal(done.result.model, 'demand');
  const list = (await t.call(a.key, 'GET', '/v1/jobs')).json();
  assert.equal(list.jobs.length, 2);
  assert.equal(list.jobs[0].id, done.id, 'newest first');
});

test('the registry shows versions with metrics, baseline, fingerprint, lineage and the production alias', async () => {
  const res = await t.call(a.key, 'GET', '/v1/models/demand');
  assert.equal(res.statusCode, 200, res.body);
  const m = res.json();
  assert.equal(m.versions.length, 2);
  assert.deepEqual(m.aliases, { production: 1 }, 'the first version became production');
  const v = m.versions[0];
  assert.deepEqual(v.lineage, [a.id]);
  assert.equal(v.fingerprint.rows, 2 * 3 * 60);
  assert.match(v.fingerprint.sha256, /^[0-9a-f]{64}$/);
  assert.equal(v.fingerprint.sha256, m.versions[1].fingerprint.sha256, 'same rows, same fingerprint');
  assert.equal(v.artifact.sha256, m.versions[1].artifact.sha256, 'same rows and seed: byte-identical artifact');
  assert.deepEqual(v.spec.features.map((f: { name: string }) => f.name), TRAIN.features);
  assert.deepEqual(v.spec.features[0].categories, ['s0', 's1']);
  for (const k of ['rmse', 'mae', 'wape']) {
    assert.equal(typeof v.metrics.holdout[k], 'number', k);
    assert.equal(typeof v.metrics.baseline[k], 'number', k);
  }
  assert.equal(v.metrics.baseline.kind, 'training-mean');
  assert.ok(v.metrics.holdout.wape < v.metrics.baseline.wape, 'the model beats predicting the mean');
  const list = (await t.call(a.key, 'GET', '/v1/models')).json();
  assert.deepEqual(list.models.map((x: { name: string }) => x.name), ['demand']);
  assert.equal(list.models[0].latestVersion, 2);
});

test('predict: rows and instances agree, null and absent are missing, source is the tenant', async () => {
  const rows = [{ store: 's1', product: 'p2', price: 4.5, promo: true }, { store: 's0', product: 'p0', price: null, promo: false }, {}];
  const byRows = await t.call(a.key, 'POST', '/v1/models/demand/predict', { rows });
  assert.equal(byRows.statusCode, 200, byRows.body);
  const body = byRows.json();
  assert.deepEqual(body.model, { name: 'demand', version: 1, source: 'tenant' });
  assert.equal(body.predictions.length, 3);
  for (const p of body.predictions) assert.ok(p > 0, 'counts are on the response scale');
  const byInstances = await t.call(a.key, 'POST', '/v1/models/demand/predict', { instances: [['s1', 'p2', 4.5, true], ['s0', 'p0', null, false], [null, null, null, null]] });
  assert.deepEqual(byInstances.json().predictions, body.predictions);
  const bad = await t.call(a.key, 'POST', '/v1/models/demand/predict', { rows: [{ price: 'cheap' }] });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().error.message, /rows\[0\]\.price/);
  assert.equal((await t.call(a.key, 'POST', '/v1/models/demand/predict', { instances: [[1, 2]] })).statusCode, 400);
  assert.equal((await t.call(a.key, 'POST', '/v1/models/nothing/predict', { rows: [{}] })).statusCode, 404);
});

test('promote and roll back through the production alias; events go on the bus', async () => {
  events.length = 0;
  const res = await t.call(a.key, 'POST', '/v1/models/demand/aliases/production', { version: 2 });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json().aliases, { production: 2 });
  assert.ok(events.some((e) => e.type === 'alias-changed' && e.tenantId === a.id && e.model === 'demand'));
  const p = await t.call(a.key, 'POST', '/v1/models/demand/predict', { rows: [{}] });
  assert.equal(p.json().model.version, 2);
  assert.equal((await t.call(a.key, 'POST', '/v1/models/demand/aliases/production', { version: 1 })).statusCode, 200);
  assert.equal((await t.call(a.key, 'POST', '/v1/models/demand/predict', { rows: [{}] })).json().model.version, 1);
  assert.equal((await t.call(a.key, 'POST', '/v1/models/demand/aliases/production', { version: 9 })).statusCode, 404);
});

test('deleting the production version rolls the alias back and the version is never served again', async () => {
  events.length = 0;
  const del = await t.call(a.key, 'DELETE', '/v1/models/demand/versions/1');
  assert.equal(del.statusCode, 204, del.body);
  assert.ok(events.some((e) => e.type === 'model-version' && e.version === '1'));
  const m = (await t.call(a.key, 'GET', '/v1/models/demand')).json();
  assert.deepEqual(m.versions.map((v: { version: number }) => v.version), [2]);
  assert.deepEqual(m.aliases, { production: 2 });
  assert.equal((await t.call(a.key, 'POST', '/v1/models/demand/predict', { rows: [{}] })).json().model.version, 2);
  assert.equal((await t.call(a.key, 'GET', '/v1/models/demand/versions/1')).statusCode, 404);
  assert.equal((await t.call(a.key, 'DELETE', '/v1/models/demand/versions/1')).statusCode, 404);
  assert.equal(await t.platform.artifacts.exists(`tenants/${a.id}/models/demand/1/model.tml`), false);
});

test('an XGBoost model file imports as a new version that predicts as XGBoost did, and exports back', async () => {
  const cases = JSON.parse(readFileSync(new URL('../../fixtures/xgboost/cases.json', import.meta.url), 'utf8'));
  const c = cases.cases.find((x: { name: string }) => x.name === 'categorical-depth6');
  const file = readFileSync(new URL(`../../fixtures/xgboost/${c.model}`, import.meta.url));
  const res = await t.call(a.key, 'POST', '/v1/models/imported/versions', file, { 'content-type': 'application/json' });
  assert.equal(res.statusCode, 201, res.body);
  assert.equal(res.json().origin, 'imported');
  assert.equal(res.json().version, 1);
  const instances: (number | null)[][] = [];
  for (let r = 0; r < c.rows.length / c.numFeatures; r++) instances.push(c.rows.slice(r * c.numFeatures, (r + 1) * c.numFeatures));
  const p = await t.call(a.key, 'POST', '/v1/models/imported/predict', { instances });
  assert.equal(p.statusCode, 200, p.body);
  for (const [i, v] of (p.json().predictions as number[]).entries()) assert.ok(Math.abs(v - c.predictions[i]) < 1e-4, `row ${i}: ${v} vs ${c.predictions[i]}`);
  const exported = await t.call(a.key, 'GET', '/v1/models/imported/versions/1/xgboost.json');
  assert.equal(exported.statusCode, 200);
  assert.match(exported.headers['content-type'] as string, /application\/json/);
  const again = await t.call(a.key, 'POST', '/v1/models/imported/versions', exported.body, { 'content-type': 'application/json' });
  assert.equal(again.statusCode, 201, again.body);
  assert.equal(again.json().version, 2);
  const p2 = await t.call(a.key, 'POST', '/v1/models/imported/aliases/production', { version: 2 });
  assert.equal(p2.statusCode, 200);
  assert.deepEqual((await t.call(a.key, 'POST', '/v1/models/imported/predict', { instances })).json().predictions, p.json().predictions);
  const junk = await t.call(a.key, 'POST', '/v1/models/imported/versions', '{"learner": 1}', { 'content-type': 'application/json' });
  assert.equal(junk.statusCode, 400);
  assert.match(junk.json().error.message, /XGBoost/);
});

test('deleting a model removes every version and artifact; predict is then a 404', async () => {
  const del = await t.call(a.key, 'DELETE', '/v1/models/imported');
  assert.equal(del.statusCode, 200, del.body);
  assert.equal(del.json().deleted.versions, 2);
  assert.equal((await t.call(a.key, 'POST', '/v1/models/imported/predict', { instances: [[1, 2, 3, 4, 5]] })).statusCode, 404);
  assert.deepEqual(await t.platform.artifacts.list(`tenants/${a.id}/models/imported/`), []);
  assert.equal((await t.call(a.key, 'GET', '/v1/models/imported')).statusCode, 404);
});

test('forecasting: lag and calendar features, a seasonal-naive backtest, recursive multi-step forecasts', async () => {
  const job = await trainAndWait(t, a, {
    name: 'forecast',
    dataset: 'sales',
    target: 'units',
    objective: 'count:poisson',
    forecast: { seriesKeys: ['store', 'product'], dateColumn: 'day', horizon: 7 },
    params: { numBoostRound: 40, eta: 0.1, maxDepth: 4 },
  });
  const v = (await t.call(a.key, 'GET', `/v1/models/forecast/versions/${job.result.version}`)).json();
  const names = v.spec.features.map((f: { name: string }) => f.name);
  for (const n of ['store', 'product', 'lag_1', 'lag_7', 'mean_7', 'day_of_week', 'month']) assert.ok(names.includes(n), n);
  assert.equal(v.spec.forecast.stepMs, 86_400_000);
  assert.equal(v.spec.forecast.seasonLength, 7);
  assert.equal(v.metrics.backtest.series, 6);
  assert.equal(v.metrics.backtest.model.rows, 42);
  assert.equal(typeof v.metrics.backtest.seasonalNaive.wape, 'number');
  const f = await t.call(a.key, 'POST', '/v1/models/forecast/forecast', { series: { store: 's1', product: 'p0' }, horizon: 10 });
  assert.equal(f.statusCode, 200, f.body);
  const out = f.json();
  assert.equal(out.forecasts.length, 10);
  assert.equal(out.forecasts[0].date, '2025-03-02', 'the day after the last stored day');
  assert.equal(out.forecasts[9].step, 10);
  for (const p of out.forecasts) assert.ok(p.value > 0 && Number.isFinite(p.value));
  // With explicit history the stored rows are not used: the forecast follows the history given.
  const flat = (units: number) => Array.from({ length: 30 }, (_, i) => ({ day: new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10), units }));
  const ask = async (units: number) =>
    (await t.call(a.key, 'POST', '/v1/models/forecast/forecast', { series: { store: 's1', product: 'p0' }, history: flat(units), horizon: 3 })).json();
  const low = await ask(0);
  const high = await ask(100);
  assert.equal(low.forecasts[0].date, '2025-01-31');
  assert.ok(low.forecasts[0].value < high.forecasts[0].value, `${low.forecasts[0].value} vs ${high.forecasts[0].value}`);
  assert.equal((await t.call(a.key, 'POST', '/v1/models/forecast/forecast', { series: { store: 's1' } })).statusCode, 400);
  assert.equal((await t.call(a.key, 'POST', '/v1/models/demand/forecast', { series: {} })).statusCode, 400, 'not a forecasting model');
});
