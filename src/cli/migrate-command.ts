/** `tenantml migrate`: applies pending migrations (opening the database does) and exits. */
import { mkdirSync } from 'node:fs';
import type { Config } from '../config.js';
import { createDb } from '../db/create-db.js';

/** Opens the database, which migrates it, and closes it. */
export async function runMigrate(config: Readonly<Config>): Promise<number> {
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
  const db = await createDb({ databaseUrl: config.databaseUrl, pgliteDir: `${config.dataDir}/pgdata` });
  await db.close();
  process.stdout.write('migrations applied\n');
  return 0;
}
