/** `tenantml maintain`: VACUUM ANALYZE and a checkpoint of the database (see `Db.maintain`), then exits. */
import type { Config } from '../config.js';
import { createDb } from '../db/create-db.js';

/** Opens the database, maintains it and reports how long that took. */
export async function runMaintain(config: Readonly<Config>): Promise<number> {
  const db = await createDb({ databaseUrl: config.databaseUrl, pgliteDir: `${config.dataDir}/pgdata` });
  try {
    const started = performance.now();
    await db.maintain();
    process.stdout.write(`vacuum analyze and checkpoint done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    return 0;
  } finally {
    await db.close();
  }
}
