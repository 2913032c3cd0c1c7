/**
 * The `tenantml` command.
 *
 *   tenantml serve     start the HTTP server (same as `npm start`)
 *   tenantml worker    run training jobs against the configured database, no HTTP
 *   tenantml migrate   apply database migrations and exit
 *   tenantml maintain  VACUUM ANALYZE and checkpoint the database (embedded PGlite has no autovacuum)
 *   tenantml export triton --tenant <id> --out <dir>   a tenant's production models as a Triton FIL repository
 *
 * Configuration comes from the same environment variables as the server.
 */
import { loadConfigOrReport } from '../config.js';
import { runExport } from './export-command.js';
import { runMaintain } from './maintain-command.js';
import { runMigrate } from './migrate-command.js';
import { runWorker } from './worker-command.js';

const USAGE = `usage: tenantml <command>

commands:
  serve     start the HTTP server
  worker    run training jobs from the shared database (TENANTML_TRAINING_WORKERS at once, default 1)
  migrate   apply database migrations and exit
  maintain  VACUUM ANALYZE and checkpoint the database; the embedded database has no autovacuum, so run it
            after large imports and now and then (it blocks the embedded database for seconds: stop the server first)
  export    export triton --tenant <id> --out <dir>: the tenant's production models as a Triton FIL model repository
`;

// Started by bin/tenantml.mjs: die with the launcher (a killed `tenantml` must not leave its work running).
if (process.send !== undefined) process.on('disconnect', () => process.exit(1));

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'serve') {
    await import('../main.js');
    return -1;
  }
  const config = loadConfigOrReport();
  if (config === undefined) return 2;
  if (command === 'worker') return runWorker(config);
  if (command === 'migrate') return runMigrate(config);
  if (command === 'maintain') return runMaintain(config);
  if (command === 'export') return runExport(config, argv.slice(1));
  process.stderr.write(`unknown command '${command}'\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    // -1: a long-running command that owns the process (serve) and exits on its own.
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`tenantml: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
