/**
 * `tenantml worker`: a process that only trains. It builds the same platform
 * as the server (database, artifact store, bus) and runs the job runner; any
 * number of these can share one PostgreSQL database (jobs are claimed with
 * `FOR UPDATE SKIP LOCKED` and leased). SIGINT/SIGTERM give running jobs back
 * to the queue before exiting.
 */
import { mkdirSync } from 'node:fs';
import type { Config } from '../config.js';
import { createPlatform } from '../platform.js';

/** Runs until a signal; returns the exit code. */
export async function runWorker(config: Readonly<Config>): Promise<number> {
  if (!config.databaseUrl) {
    process.stderr.write('note: without DATABASE_URL the worker uses its own embedded database; jobs queued by a server are only shared through PostgreSQL\n');
    mkdirSync(config.dataDir, { recursive: true });
  }
  const workers = Math.max(1, config.models.trainingWorkers);
  const platform = await createPlatform({ ...config, models: { ...config.models, trainingWorkers: workers } });
  const runner = platform.models.runner!;
  process.stdout.write(`tenantml worker ${runner.workerId} running ${workers} job(s) at once\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  process.stdout.write('stopping: giving running jobs back to the queue\n');
  await platform.close();
  return 0;
}
