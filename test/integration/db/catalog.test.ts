/**
 * Reads the catalog and fails if any tenant table lacks forced RLS, a restrictive
 * tenant policy with USING and WITH CHECK, an index leading with tenant_id, or
 * tenant-scoped foreign keys; and if the application role could bypass RLS.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { listTenantTables } from '../../../src/db/tenant-tables.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

let t: TestDatabase;
before(async () => {
  t = await createTestDatabase();
});
after(() => t.drop());

const sys = <R>(sql: string, params: unknown[] = []) => t.db.withSystem((tx) => tx.query<R>(sql, params)).then((r) => r.rows);

test('there are tenant tables to check', async () => {
  const tables = await t.db.withSystem(listTenantTables);
  for (const expected of ['api_keys', 'datasets', 'dataset_uploads', 'dataset_rows']) assert.ok(tables.includes(expected), `${expected} is a tenant table`);
});

test('every tenant table has tenant_id NOT NULL, RLS enabled and forced', async () => {
  const tables = await t.db.withSystem(listTenantTables);
  for (const table of tables) {
    const [row] = await sys<{ relrowsecurity: boolean; relforcerowsecurity: boolean; notnull: boolean }>(
      `select c.relrowsecurity, c.relforcerowsecurity, a.attnotnull as notnull
         from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id'
        where c.oid = $1::regclass`,
      [table],
    );
    assert.ok(row, table);
    assert.equal(row.notnull, true, `${table}.tenant_id is NOT NULL`);
    assert.equal(row.relrowsecurity, true, `${table} has RLS enabled`);
    assert.equal(row.relforcerowsecurity, true, `${table} has RLS forced`);
  }
});

test('every tenant table has a restrictive tenant policy with USING and WITH CHECK on app.tenant_id', async () => {
  const tables = await t.db.withSystem(listTenantTables);
  for (const table of tables) {
    const policies = await sys<{ permissive: string; cmd: string; qual: string | null; with_check: string | null; roles: string[] }>(
      `select permissive, cmd, qual, with_check, roles::text[] as roles from pg_policies where schemaname = current_schema() and tablename = $1`,
      [table],
    );
    const restrictive = policies.filter((p) => p.permissive === 'RESTRICTIVE' && p.cmd === 'ALL');
    assert.equal(restrictive.length, 1, `${table} has one restrictive policy for all commands`);
    const p = restrictive[0]!;
    for (const [what, expr] of [['USING', p.qual], ['WITH CHECK', p.with_check]] as const) {
      assert.ok(expr, `${table}: restrictive policy has ${what}`);
      assert.match(expr, /tenant_id = \( SELECT NULLIF\(current_setting\('app\.tenant_id'::text, true\), ''::text\)/, `${table}: ${what} compares tenant_id with the setting, once per query`);
    }
    assert.deepEqual(p.roles, ['public'], `${table}: the restrictive policy applies to every role`);
    // Every permissive policy must itself be tenant-scoped: nothing grants wider access.
    for (const perm of policies.filter((x) => x.permissive === 'PERMISSIVE')) {
      assert.match(perm.qual ?? '', /app\.tenant_id/, `${table}: permissive policy is tenant-scoped`);
    }
  }
});

test('every tenant table has an index leading with tenant_id', async () => {
  const tables = await t.db.withSystem(listTenantTables);
  for (const table of tables) {
    const rows = await sys<{ first: string }>(
      `select a.attname as first from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
        where i.indrelid = $1::regclass`,
      [table],
    );
    assert.ok(rows.some((r) => r.first === 'tenant_id'), `${table} has an index whose first column is tenant_id`);
  }
});

test('foreign keys between tenant tables include tenant_id on both sides', async () => {
  const tables = new Set(await t.db.withSystem(listTenantTables));
  const fks = await sys<{ child: string; parent: string; child_cols: string[]; parent_cols: string[] }>(
    `select cl.relname as child, pl.relname as parent,
            array(select attname from pg_attribute where attrelid = k.conrelid and attnum = any(k.conkey))::text[] as child_cols,
            array(select attname from pg_attribute where attrelid = k.confrelid and attnum = any(k.confkey))::text[] as parent_cols
       from pg_constraint k join pg_class cl on cl.oid = k.conrelid join pg_class pl on pl.oid = k.confrelid
      where k.contype = 'f' and cl.relnamespace = current_schema()::regnamespace`,
  );
  let checked = 0;
  for (const fk of fks) {
    if (!tables.has(fk.child) || !tables.has(fk.parent)) continue;
    checked++;
    assert.ok(fk.child_cols.includes('tenant_id') && fk.parent_cols.includes('tenant_id'), `${fk.child} → ${fk.parent} includes tenant_id`);
  }
  assert.ok(checked >= 2, 'some tenant-to-tenant foreign keys were checked');
});

test('the application role cannot bypass RLS, owns nothing and creates nothing', async () => {
  const [role] = await sys<{ rolsuper: boolean; rolbypassrls: boolean; rolcanlogin: boolean }>(
    `select rolsuper, rolbypassrls, rolcanlogin from pg_roles where rolname = 'tenantml_app'`,
  );
  assert.ok(role, 'tenantml_app exists');
  assert.equal(role.rolsuper, false);
  assert.equal(role.rolbypassrls, false);
  const owned = await sys<{ n: number }>(
    `select count(*)::int as n from pg_class c join pg_namespace ns on ns.oid = c.relnamespace
      where c.relowner = 'tenantml_app'::regrole and ns.nspname = current_schema()`,
  );
  assert.equal(owned[0]!.n, 0, 'owns no tables');
  const fns = await sys<{ n: number }>(`select count(*)::int as n from pg_proc where proowner = 'tenantml_app'::regrole`);
  assert.equal(fns[0]!.n, 0, 'owns no functions');
  const [priv] = await sys<{ can_create: boolean }>(`select has_schema_privilege('tenantml_app', current_schema(), 'CREATE') as can_create`);
  assert.equal(priv!.can_create, false, 'cannot create objects in the schema');
  await assert.rejects(
    t.db.withTenant('someone', (tx) => tx.query('create table sneaky (tenant_id text)')),
    /permission denied/,
    'creating a table as the application role fails',
  );
  await assert.rejects(
    t.db.withTenant('someone', (tx) => tx.query(`create function sneaky() returns int language sql as 'select 1'`)),
    /permission denied/,
    'creating a function as the application role fails',
  );
});

test('withTenant really runs as the application role with the tenant set', async () => {
  const [row] = await t.db.withTenant('acme', (tx) =>
    tx.query<{ role: string; tenant: string }>(`select current_user as role, current_setting('app.tenant_id') as tenant`).then((r) => r.rows),
  );
  assert.equal(row!.role, 'tenantml_app');
  assert.equal(row!.tenant, 'acme');
  // The setting is transaction-local: the next transaction on the same connection starts clean.
  const [next] = await t.db.withSystem((tx) =>
    tx.query<{ tenant: string | null }>(`select nullif(current_setting('app.tenant_id', true), '') as tenant`).then((r) => r.rows),
  );
  assert.equal(next!.tenant, null);
});

test('operator tables are closed to the application role', async () => {
  for (const table of ['tenants', 'operator_settings', 'schema_migrations']) {
    await assert.rejects(t.db.withTenant('acme', (tx) => tx.query(`select * from ${table}`)), /permission denied/, table);
  }
});
