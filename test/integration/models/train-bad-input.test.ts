/** A train request that cannot work is a 400 naming the problem at submit time; no job is queued. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';

let t: TestPlatform;
let a: TestTenant;

before(async () => {
  t = await startTestPlatform({ TENANTML_TRAINING_WORKERS: '0' });
  a = await t.createTenant('bad-input');
  const rows = Array.from({ length: 40 }, (_, i) => ({ x: i, label: i % 3 === 0 ? -1 : 2, flag: i % 2 === 0, name: `n${i % 4}`, day: '2025-01-01', prob: (i % 10) / 10 }));
  await t.call(a.key, 'POST', '/v1/datasets', { name: 'data' });
  assert.equal((await t.call(a.key, 'POST', '/v1/datasets/data/rows', { rows })).statusCode, 200);
  await t.call(a.key, 'POST', '/v1/datasets', { name: 'tiny' });
  await t.call(a.key, 'POST', '/v1/datasets/tiny/rows', { rows: [{ x: 1, y: 2 }, { x: 2, y: 3 }] });
});
after(() => t.close());

const base = { name: 'm', dataset: 'data', target: 'label', objective: 'reg:squarederror' };
const cases: [string, Record<string, unknown>, RegExp][] = [
  ['unknown dataset', { ...base, dataset: 'nope' }, /dataset: no dataset named 'nope'/],
  ['unknown target column', { ...base, target: 'nope' }, /target: .*no column 'nope'/],
  ['unknown feature column', { ...base, features: ['x', 'nope'] }, /features: .*no column 'nope'/],
  ['the target as a feature', { ...base, features: ['x', 'label'] }, /features: 'label' is the target/],
  ['a string target', { ...base, target: 'name' }, /target: column 'name' is string, not numeric/],
  ['a date target', { ...base, target: 'day' }, /target: column 'day' is date, not numeric/],
  ['too few rows', { ...base, dataset: 'tiny', target: 'y' }, /has 2 rows .* at least 20/],
  ['negative labels with count:poisson', { ...base, objective: 'count:poisson' }, /count:poisson needs target values >= 0.*-1/],
  ['negative labels with reg:tweedie', { ...base, objective: 'reg:tweedie' }, /reg:tweedie needs target values >= 0/],
  ['labels outside [0,1] with binary:logistic', { ...base, objective: 'binary:logistic' }, /binary:logistic needs target values 0 or 1/],
  ['an unknown objective', { ...base, objective: 'multi:softmax' }, /objective/],
  ['an out-of-range parameter', { ...base, params: { eta: 5 } }, /eta must be in \(0, 1\]/],
  ['an unknown parameter', { ...base, params: { learningRate: 0.1 } }, /params/],
  ['a bad model name', { ...base, name: '../etc' }, /name/],
  ['forecast with a non-date column', { ...base, forecast: { seriesKeys: ['name'], dateColumn: 'x' } }, /forecast.dateColumn: column 'x' is integer, not date/],
  ['forecast with an unknown series key', { ...base, forecast: { seriesKeys: ['nope'], dateColumn: 'day' } }, /forecast.seriesKeys: .*no column 'nope'/],
];

for (const [what, body, message] of cases) {
  test(`${what} → 400`, async () => {
    const res = await t.call(a.key, 'POST', '/v1/models', body);
    assert.equal(res.statusCode, 400, res.body);
    assert.match(res.json().error.message, message);
  });
}

test('valid requests for the same data pass: a boolean target with logistic, probabilities with logistic', async () => {
  for (const body of [
    { ...base, target: 'flag', objective: 'binary:logistic' },
    { ...base, target: 'prob', objective: 'binary:logistic' },
    { ...base, objective: 'reg:absoluteerror', features: ['x', 'name'] },
  ]) {
    const res = await t.call(a.key, 'POST', '/v1/models', body);
    assert.equal(res.statusCode, 202, res.body);
  }
  assert.equal((await t.call(a.key, 'GET', '/v1/jobs')).json().jobs.length, 3, 'only the valid requests queued jobs');
});
