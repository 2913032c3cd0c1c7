import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Column } from '../../../src/data/column-types.js';
import { errorMetrics } from '../../../src/models/error-metrics.js';
import { encodeInstances, encodeRowObjects, encodeStoredRows, learnCategories, planFeatures } from '../../../src/models/feature-encoding.js';
import { buildTabularSets, fingerprintRows, isHoldoutRow } from '../../../src/models/tabular-sets.js';

const columns: Column[] = [
  { name: 'n', type: 'number' },
  { name: 'flag', type: 'boolean' },
  { name: 'when', type: 'date' },
  { name: 'city', type: 'string' },
  { name: 'y', type: 'integer' },
];

test('columns become numeric or categorical features; string categories are learned sorted', () => {
  const specs = planFeatures(columns, ['n', 'flag', 'when', 'city']);
  assert.deepEqual(specs.map((s) => s.kind), ['numeric', 'numeric', 'numeric', 'categorical']);
  learnCategories(specs, (name) => (name === 'city' ? ['rome', null, 'oslo', 'rome'] : []));
  assert.deepEqual(specs[3]!.categories, ['oslo', 'rome']);
  assert.throws(() => planFeatures(columns, ['nope']), /unknown column 'nope'/);
});

test('rows, instances and stored rows encode the same way; missing and unseen are NaN', () => {
  const specs = planFeatures(columns, ['n', 'flag', 'when', 'city']);
  specs[3]!.categories = ['oslo', 'rome'];
  const byRows = encodeRowObjects(specs, [{ n: 1.5, flag: true, when: '1970-01-03', city: 'rome', extra: 'ignored' }, { city: 'paris' }]);
  const byInstances = encodeInstances(specs, [[1.5, true, '1970-01-03', 'rome'], [null, null, null, 'paris']]);
  const stored = encodeStoredRows(specs, columns, [[1.5, true, '1970-01-03', 'rome', 0], [null, null, null, 'paris', 1]]);
  for (const x of [byRows, byInstances, stored]) {
    assert.deepEqual(Array.from(x.slice(0, 4)), [1.5, 1, 2, 1]);
    assert.ok(Array.from(x.slice(4)).every(Number.isNaN));
  }
  assert.deepEqual(Array.from(encodeRowObjects(specs, [{ n: 2 }], [7]).slice(0, 2)), [7, 2], 'a prefix comes first');
  assert.throws(() => encodeRowObjects(specs, [{ n: 'x' }]), /rows\[0\]\.n: expected a number/);
  assert.throws(() => encodeRowObjects(specs, [{ when: 'soon' }]), /rows\[0\]\.when: expected an ISO-8601 date/);
  assert.throws(() => encodeInstances(specs, [[1]]), /instances\[0\]: expected an array of 4 values/);
});

test('the holdout split is a fixed function of position, about a fifth of the rows', () => {
  let held = 0;
  for (let i = 0; i < 10_000; i++) if (isHoldoutRow(i)) held++;
  assert.ok(held > 1800 && held < 2200, String(held));
  const rows = Array.from({ length: 100 }, (_, i) => [i, i % 2 === 0, null, 'x', i % 7 === 0 ? null : i]);
  const specs = planFeatures(columns, ['n']);
  const a = buildTabularSets(columns, rows, specs, 'y');
  const b = buildTabularSets(columns, rows, specs, 'y');
  assert.deepEqual(a, b);
  assert.equal(a.train.rows + a.holdout.rows, 100 - 15, 'rows without a label are dropped');
});

test('fingerprints and error metrics', () => {
  const f = fingerprintRows([[1, 'a'], [2, null]]);
  assert.equal(f.rows, 2);
  assert.notEqual(f.sha256, fingerprintRows([[1, 'a'], [2, 'null']]).sha256);
  const m = errorMetrics([1, 2, 3, 4], [2, 2, 3, 2]);
  assert.equal(m.mae, 0.75);
  assert.equal(m.rmse, 1.118034);
  assert.equal(m.wape, 0.3);
  assert.equal(errorMetrics([0, 0], [1, 1]).wape, null, 'WAPE is undefined when the actuals sum to zero');
});
