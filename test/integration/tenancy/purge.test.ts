import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { artifactKey, tenantArtifactPrefix } from '../../../src/storage/artifact-key.js';
import { scanAllTablesFor } from '../../support/scan-tenant.js';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';

let t: TestPlatform;
let doomed: TestTenant;
let kept: TestTenant;

before(async () => {
  t = await startTestPlatform();
  doomed = await t.createTenant('purge-me-7f3k');
  kept = await t.createTenant('keep-me-2q9z');
  for (const who of [doomed, kept]) {
    await t.call(who.key, 'POST', '/v1/datasets', { name: 'sales' });
    await t.call(who.key, 'POST', '/v1/datasets/sales/rows', 'x,y\n1,2\n3,4\n5,6\n', { 'content-type': 'text/csv' });
    await t.call(who.key, 'POST', '/v1/datasets', { name: 'other' });
    await t.call(who.key, 'POST', '/v1/datasets/other/rows', { rows: [{ a: 1 }] });
  }
  await t.call(t.adminKey, 'POST', `/v1/admin/tenants/${doomed.id}/keys`, {});
  for (const who of [doomed, kept]) {
    await t.platform.artifacts.put(artifactKey({ tenantId: who.id, kind: 'models', name: 'demand', version: '1', file: 'model.tml' }), new Uint8Array([1, 2, 3]));
  }
});
after(() => t.close());

test('the purge receipt counts what was deleted per table', async () => {
  assert.ok(Object.keys(await scanAllTablesFor(t.platform.db, doomed.id)).length >= 4, 'the tenant is everywhere before');
  const res = await t.call(t.adminKey, 'DELETE', `/v1/admin/tenants/${doomed.id}`);
  assert.equal(res.statusCode, 200, res.body);
  const receipt = res.json();
  assert.equal(receipt.tenantId, doomed.id);
  assert.equal(receipt.deleted.tenants, 1);
  assert.equal(receipt.deleted.api_keys, 2);
  assert.equal(receipt.deleted.datasets, 2);
  assert.equal(receipt.deleted.dataset_uploads, 2);
  assert.equal(receipt.deleted.dataset_rows, 4);
  assert.equal(receipt.deleted.artifacts, 1);
});

test('afterwards no table holds a row mentioning the tenant id', async () => {
  assert.deepEqual(await scanAllTablesFor(t.platform.db, doomed.id), {});
  assert.deepEqual(await t.platform.artifacts.list(tenantArtifactPrefix(doomed.id)), [], 'no artifact of the tenant is left');
  assert.equal((await t.platform.artifacts.list(tenantArtifactPrefix(kept.id))).length, 1, "the other tenant's artifact is kept");
});

test("its keys stop working at once, and the other tenant's data is intact", async () => {
  assert.equal((await t.call(doomed.key, 'GET', '/v1/datasets')).statusCode, 401);
  assert.equal((await t.call(t.adminKey, 'GET', `/v1/admin/tenants/${doomed.id}`)).statusCode, 404);
  const ds = (await t.call(kept.key, 'GET', '/v1/datasets/sales')).json();
  assert.equal(ds.rowCount, 3);
  const rows = (await t.call(kept.key, 'GET', '/v1/datasets/sales/rows')).json().rows;
  assert.deepEqual(rows, [{ x: 1, y: 2 }, { x: 3, y: 4 }, { x: 5, y: 6 }]);
  assert.ok(Object.keys(await scanAllTablesFor(t.platform.db, kept.id)).length >= 4);
});

test('purging twice is a 404, and the id can be reused for a new, empty tenant', async () => {
  assert.equal((await t.call(t.adminKey, 'DELETE', `/v1/admin/tenants/${doomed.id}`)).statusCode, 404);
  const again = await t.createTenant(doomed.id);
  assert.deepEqual((await t.call(again.key, 'GET', '/v1/datasets')).json().datasets, []);
});
