/**
 * Migrations are versioned and safe when replicas start at once: applying them
 * concurrently from several connections records each version exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadMigrations, migrate } from '../../../src/db/migrate.js';
import { PostgresDb } from '../../../src/db/pg-db.js';
import { createServerDatabase, createTestDatabase, type TestDatabase, testMode } from '../../support/test-database.js';

let t: TestDatabase;
before(async () => {
  t = await createTestDatabase();
});
after(() => t.drop());

test('every migration file is recorded once, in order, and re-running applies nothing', async () => {
  const files = loadMigrations().map((m) => m.version);
  const rows = await t.db.withSystem((tx) => tx.query<{ version: number }>('select version from schema_migrations order by version'));
  assert.deepEqual(rows.rows.map((r) => Number(r.version)), files);
  assert.deepEqual(await migrate(t.db), [], 'nothing left to apply');
});

if (testMode() === 'servers') {
  test('three replicas migrating a fresh database at once apply each migration exactly once', async () => {
    const fresh = await createServerDatabase();
    const replicas = [0, 1, 2].map(() => PostgresDb.open(fresh.url, 2));
    try {
      const applied = await Promise.all(replicas.map((db) => migrate(db)));
      const total = applied.flat().sort((a, b) => a - b);
      assert.deepEqual(total, loadMigrations().map((m) => m.version), 'each version applied by exactly one replica');
      const rows = await replicas[0]!.withSystem((tx) => tx.query<{ n: number }>('select count(*)::int as n from schema_migrations'));
      assert.equal(rows.rows[0]!.n, loadMigrations().length);
    } finally {
      for (const db of replicas) await db.close();
      await fresh.drop();
    }
  });
}
