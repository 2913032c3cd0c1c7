/**
 * At SQL level: inside withTenant(A), every tenant table shows only A's rows,
 * writing a row of B fails, and without a tenant setting nothing is visible.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { listTenantTables } from '../../../src/db/tenant-tables.js';
import { startTestPlatform, type TestPlatform } from '../../support/test-platform.js';

let t: TestPlatform;
let tables: string[];
before(async () => {
  t = await startTestPlatform({ TENANTML_TRAINING_WORKERS: '0', TENANTML_RAG_SYNC_INGEST_MAX: '2KB' });
  for (const id of ['alpha', 'beta']) {
    const tenant = await t.createTenant(id);
    assert.equal((await t.call(tenant.key, 'POST', '/v1/datasets', { name: 'sales' })).statusCode, 201);
    const rows = await t.call(tenant.key, 'POST', '/v1/datasets/sales/rows', 'store,units\n1,5\n2,7\n', { 'content-type': 'text/csv' });
    assert.equal(rows.statusCode, 200, rows.body);
    // A model (version, alias), a serving policy and a training job.
    const model = readFileSync(new URL('../../fixtures/xgboost/poisson.json', import.meta.url));
    assert.equal((await t.call(tenant.key, 'POST', '/v1/models/demand/versions', model, { 'content-type': 'application/json' })).statusCode, 201);
    assert.equal((await t.call(tenant.key, 'PUT', '/v1/models/demand/policy', { policy: 'best' })).statusCode, 200);
    await t.platform.models.queue.enqueue(id, { name: 'demand', dataset: 'sales', target: 'units', objective: 'count:poisson' });
    // RAG: a namespace, a document stored inline and one large enough to go through an ingest job.
    assert.equal((await t.call(tenant.key, 'POST', '/v1/namespaces', { name: 'kb' })).statusCode, 201);
    assert.equal((await t.call(tenant.key, 'POST', '/v1/namespaces/kb/documents', { text: `Notes of ${id}.` })).statusCode, 201);
    const big = await t.call(tenant.key, 'POST', '/v1/namespaces/kb/documents', { text: `Long notes of ${id}. `.repeat(200) });
    assert.equal(big.statusCode, 202, big.body);
  }
  await t.platform.rag.jobs.idle();
  // Usage counters reach their table at the next flush; do it now.
  await t.platform.limits.usageStore.flush();
  tables = await t.platform.db.withSystem(listTenantTables);
});
after(() => t.close());

test('both tenants have rows in every tenant table (so the checks below are not vacuous)', async () => {
  for (const table of tables) {
    const res = await t.platform.db.withSystem((tx) =>
      tx.query<{ tenant_id: string; n: number }>(`select tenant_id, count(*)::int as n from "${table}" group by tenant_id`),
    );
    const ids = res.rows.map((r) => r.tenant_id).sort();
    assert.deepEqual(ids, ['alpha', 'beta'], `${table} holds rows of both tenants`);
  }
});

test('inside withTenant(alpha) every tenant table returns only alpha rows', async () => {
  for (const table of tables) {
    const res = await t.platform.db.withTenant('alpha', (tx) => tx.query<{ tenant_id: string }>(`select tenant_id from "${table}"`));
    assert.ok(res.rows.length > 0, `${table}: alpha sees its own rows`);
    assert.ok(res.rows.every((r) => r.tenant_id === 'alpha'), `${table}: no beta rows visible to alpha`);
    const forced = await t.platform.db.withTenant('alpha', (tx) => tx.query(`select 1 from "${table}" where tenant_id = 'beta'`));
    assert.equal(forced.rowCount, 0, `${table}: asking for beta explicitly still returns nothing`);
  }
});

test('inside withTenant(alpha) inserting or moving a beta row fails', async () => {
  await assert.rejects(
    t.platform.db.withTenant('alpha', (tx) => tx.query(`insert into datasets (tenant_id, id, name) values ('beta', 'ds_x', 'planted')`)),
    /row-level security/,
  );
  await assert.rejects(
    t.platform.db.withTenant('alpha', (tx) => tx.query(`update datasets set tenant_id = 'beta'`)),
    /row-level security/,
  );
  const updated = await t.platform.db.withTenant('alpha', (tx) => tx.query(`update datasets set name = 'hijacked' where tenant_id = 'beta'`));
  assert.equal(updated.rowCount, 0);
  const deleted = await t.platform.db.withTenant('alpha', (tx) => tx.query(`delete from dataset_rows where tenant_id = 'beta'`));
  assert.equal(deleted.rowCount, 0);
  const beta = await t.call((await t.platform.tenants.issueKey('beta')).apiKey, 'GET', '/v1/datasets/sales');
  assert.equal(beta.json().name, 'sales');
  assert.equal(beta.json().rowCount, 2);
});

test('the application role without a tenant setting sees no rows at all', async () => {
  for (const table of tables) {
    const res = await t.platform.db.withSystem(async (tx) => {
      await tx.query(`select set_config('role', 'tenantml_app', true)`);
      return tx.query(`select 1 from "${table}"`);
    });
    assert.equal(res.rowCount, 0, `${table}: unset tenant matches nothing`);
    const empty = await t.platform.db.withSystem(async (tx) => {
      await tx.query(`select set_config('role', 'tenantml_app', true), set_config('app.tenant_id', '', true)`);
      return tx.query(`select 1 from "${table}"`);
    });
    assert.equal(empty.rowCount, 0, `${table}: empty tenant matches nothing`);
  }
});

test('a foreign key cannot point across tenants', async () => {
  const betaDs = await t.platform.db.withTenant('beta', (tx) => tx.query<{ id: string }>('select id from datasets'));
  const betaId = betaDs.rows[0]!.id;
  await assert.rejects(
    t.platform.db.withTenant('alpha', (tx) =>
      tx.query(`insert into dataset_uploads (tenant_id, id, dataset_id, state) values ('alpha', 'up_cross', $1, 'pending')`, [betaId]),
    ),
    /foreign key/,
  );
});
