/**
 * A fresh database per test file, in the mode the runner chose:
 * `embedded` → in-memory PGlite; `servers` → a new database on the PostgreSQL
 * server, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb } from '../../src/db/create-db.js';
import type { Db } from '../../src/db/db.js';

export type TestMode = 'embedded' | 'servers';

export function testMode(): TestMode {
  return process.env.TENANTML_TEST_MODE === 'servers' ? 'servers' : 'embedded';
}

export const SERVER_URL = process.env.TENANTML_TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TENANTML_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestDatabase {
  db: Db;
  /** Set in servers mode: the URL of the fresh database (for extra processes). */
  url: string | undefined;
  drop(): Promise<void>;
}

/** Creates an empty database on the server and returns its URL. */
export async function createServerDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `tml_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: SERVER_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function createTestDatabase(mode: TestMode = testMode()): Promise<TestDatabase> {
  if (mode === 'embedded') {
    const db = await createDb({});
    return { db, url: undefined, drop: () => db.close() };
  }
  const server = await createServerDatabase();
  const db = await createDb({ databaseUrl: server.url, maxConnections: 5 });
  return {
    db,
    url: server.url,
    drop: async () => {
      await db.close();
      await server.drop();
    },
  };
}
