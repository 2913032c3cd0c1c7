import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';

let t: TestPlatform;
let a: TestTenant;
before(async () => {
  t = await startTestPlatform();
  a = await t.createTenant('data-a');
});
after(() => t.close());

const csv = { 'content-type': 'text/csv' };
const ndjson = { 'content-type': 'application/x-ndjson' };

test('CSV upload infers column types and reads back in order', async () => {
  assert.equal((await t.call(a.key, 'POST', '/v1/datasets', { name: 'sales' })).statusCode, 201);
  const body = 'store,day,units,price,promo,label\n1,2026-01-01,5,2.5,true,"a, quoted"\n2,2026-01-02,,3,false,plain\n';
  const res = await t.call(a.key, 'POST', '/v1/datasets/sales/rows', body, csv);
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().rowsAdded, 2);
  assert.deepEqual(res.json().dataset.columns, [
    { name: 'store', type: 'integer' },
    { name: 'day', type: 'date' },
    { name: 'units', type: 'integer' },
    { name: 'price', type: 'number' },
    { name: 'promo', type: 'boolean' },
    { name: 'label', type: 'string' },
  ]);
  const rows = (await t.call(a.key, 'GET', '/v1/datasets/sales/rows')).json().rows;
  assert.deepEqual(rows[0], { store: 1, day: '2026-01-01', units: 5, price: 2.5, promo: true, label: 'a, quoted' });
  assert.equal(rows[1].units, null, 'an empty cell is a missing value');
});

test('NDJSON and JSON uploads append to the same dataset; describe counts them', async () => {
  const nd = '{"store":3,"day":"2026-01-03","units":1,"price":1.5,"promo":false,"label":"x"}\n\n{"store":4,"day":"2026-01-04","units":2,"price":null,"promo":true,"label":"y"}\n';
  assert.equal((await t.call(a.key, 'POST', '/v1/datasets/sales/rows', nd, ndjson)).statusCode, 200);
  const json = await t.call(a.key, 'POST', '/v1/datasets/sales/rows', { rows: [{ store: 5, day: '2026-01-05', units: 9, promo: true }] });
  assert.equal(json.statusCode, 200, json.body);
  const ds = (await t.call(a.key, 'GET', '/v1/datasets/sales')).json();
  assert.equal(ds.rowCount, 5);
  assert.ok(ds.sizeBytes > 0);
  const list = (await t.call(a.key, 'GET', '/v1/datasets')).json();
  assert.deepEqual(list.datasets.map((d: { name: string }) => d.name), ['sales']);
});

test('declared columns are enforced and paging walks every row once', async () => {
  const created = await t.call(a.key, 'POST', '/v1/datasets', { name: 'typed', columns: [{ name: 'x', type: 'number' }, { name: 'y', type: 'string' }] });
  assert.equal(created.statusCode, 201);
  const lines = ['x,y', ...Array.from({ length: 250 }, (_, i) => `${i / 2},r${i}`)].join('\n');
  assert.equal((await t.call(a.key, 'POST', '/v1/datasets/typed/rows', lines, csv)).statusCode, 200);
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { rows: { y: string }[]; nextCursor: string | null } = (
      await t.call(a.key, 'GET', `/v1/datasets/typed/rows?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
    ).json();
    seen.push(...page.rows.map((r) => r.y));
    cursor = page.nextCursor;
  } while (cursor);
  assert.equal(seen.length, 250);
  assert.equal(new Set(seen).size, 250);
  assert.equal(seen[249], 'r249');
});

test('creating a dataset twice is 409; an unknown dataset is 404', async () => {
  assert.equal((await t.call(a.key, 'POST', '/v1/datasets', { name: 'sales' })).statusCode, 409);
  assert.equal((await t.call(a.key, 'GET', '/v1/datasets/missing')).statusCode, 404);
  assert.equal((await t.call(a.key, 'POST', '/v1/datasets/missing/rows', 'a\n1\n', csv)).statusCode, 404);
});

test('readAll returns a consistent snapshot in column order for training', async () => {
  const { dataset, rows } = await t.platform.datasets.readAll(a.id, 'typed', 64);
  assert.equal(dataset.rowCount, 250);
  assert.equal(rows.length, 250);
  assert.deepEqual(rows[3], [1.5, 'r3']);
});
