import type { Db } from './db.js';
import { migrate } from './migrate.js';
import { PGliteDb } from './pglite-db.js';
import { PostgresDb } from './pg-db.js';
import { checkServer } from './server-checks.js';

export interface DbConfig {
  /** A PostgreSQL server; absent → embedded PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite's data folder; absent → in memory (tests). */
  pgliteDir?: string | undefined;
  maxConnections?: number;
}

/** Opens the configured database, refuses unsafe servers, applies migrations. */
export async function createDb(config: DbConfig): Promise<Db> {
  const db: Db = config.databaseUrl
    ? PostgresDb.open(config.databaseUrl, config.maxConnections)
    : await PGliteDb.open(config.pgliteDir);
  try {
    await checkServer(db);
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  return db;
}
