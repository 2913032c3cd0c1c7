/**
 * `Db.maintain` is the embedded database's autovacuum: after it, the planner's
 * row estimate of a table that took inserts and deletes is its real size, and
 * the table's dead rows are gone.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

let t: TestDatabase;
before(async () => {
  t = await createTestDatabase();
});
after(() => t.drop());

test('maintain() vacuums and analyses: row estimates become the live count, dead rows are reclaimed', async () => {
  await t.db.withSystem(async (tx) => {
    await tx.query(`insert into tenants (id, name) select 'maint-' || g, 'tenant ' || g from generate_series(1, 180) g`);
    await tx.query(`delete from tenants where id like 'maint-%' and (substr(id, 7))::int % 3 = 0`);
  });
  const stats = () =>
    t.db.withSystem(async (tx) => {
      const [row] = (
        await tx.query<{ estimate: number; live: string; pages: number }>(
          `select c.reltuples as estimate, (select count(*) from tenants) as live, c.relpages as pages from pg_class c where c.oid = 'tenants'::regclass`,
        )
      ).rows;
      return { estimate: Number(row!.estimate), live: Number(row!.live), pages: Number(row!.pages) };
    });
  const before = await stats();
  assert.ok(before.live >= 120, 'the inserts are there');
  await t.db.maintain();
  const afterwards = await stats();
  assert.equal(afterwards.estimate, afterwards.live, 'the planner knows the table as it is');
  assert.ok(afterwards.pages > 0, 'relpages recorded');
  // A second run is harmless (idempotent maintenance).
  await t.db.maintain();
  assert.equal((await stats()).estimate, afterwards.live);
});
