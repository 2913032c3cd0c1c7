/**
 * The full training path for many tenants: synthetic demand rows in
 * PostgreSQL → validated training jobs in the queue → worker threads →
 * verified, published versions. Runs the same workload with 1 and then 2
 * workers (each its own platform against the same database, like `tenantml
 * worker`), and reports throughput, per-model time, where the time goes, and
 * the demand-forecast backtest against seasonal-naive (measured in the same
 * run). Args: --tenants N (default 12), --days D (default 180).
 */
import { Readable } from 'node:stream';
import { loadConfig } from '../src/config.js';
import { csvSource } from '../src/data/row-sources.js';
import { createDb } from '../src/db/create-db.js';
import type { JobInfo } from '../src/models/job-queue.js';
import { createPlatform, type Platform } from '../src/platform.js';
import { createServerDatabase } from '../test/support/test-database.js';
import { argNumber, median, printResult, progress, round } from './_harness.js';
import { demandCsv } from './_synthetic-sales.js';

const TENANTS = argNumber('tenants', 12);
const DAYS = argNumber('days', 180);
const STORES = 3;
const PRODUCTS = 4;
const ADMIN = 'tmladm_bench-operator-key-000000';
const TRAIN = {
  dataset: 'sales',
  target: 'units',
  objective: 'count:poisson' as const,
  forecast: { seriesKeys: ['store', 'product'], dateColumn: 'day', horizon: 14 },
  params: { numBoostRound: 150, eta: 0.1, maxDepth: 5, minChildWeight: 5 },
};

const server = await createServerDatabase();
const dataDir = `/tmp/tenantml-bench-training-${process.pid}`;
const config = (workers: number) =>
  loadConfig({ TENANTML_ADMIN_KEY: ADMIN, LOG_LEVEL: 'silent', DATABASE_URL: server.url, TENANTML_DATA_DIR: dataDir, TENANTML_TRAINING_WORKERS: String(workers), TENANTML_JOB_POLL_MS: '20' });

async function seed(platform: Platform, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < TENANTS; i++) {
    const id = `${prefix}-t${i}`;
    await platform.tenants.create({ id, name: id });
    await platform.datasets.create(id, 'sales', [
      { name: 'store', type: 'string' },
      { name: 'product', type: 'string' },
      { name: 'day', type: 'date' },
      { name: 'price', type: 'number' },
      { name: 'promo', type: 'boolean' },
      { name: 'units', type: 'integer' },
    ]);
    const csv = demandCsv({ seed: 1000 + i, stores: STORES, products: PRODUCTS, days: DAYS });
    await platform.datasets.appendRows(id, 'sales', csvSource(Readable.from([Buffer.from(csv)]), 1 << 30));
    ids.push(id);
  }
  return ids;
}

async function run(workers: number): Promise<Record<string, unknown>> {
  const prefix = `w${workers}`;
  // Data and jobs go in through a platform that trains nothing; a second one is the worker.
  const front = await createPlatform(config(0), { db: await createDb({ databaseUrl: server.url }) });
  progress(`workers=${workers}: loading ${TENANTS} tenants x ${STORES * PRODUCTS * DAYS} rows`);
  const ids = await seed(front, prefix);
  const jobs: { tenantId: string; id: string }[] = [];
  for (const id of ids) jobs.push({ tenantId: id, id: (await front.models.jobs.submit(id, { ...TRAIN, name: 'demand' })).id });
  progress(`workers=${workers}: ${jobs.length} jobs queued`);
  const started = performance.now();
  const worker = await createPlatform(config(workers), { db: await createDb({ databaseUrl: server.url, maxConnections: 4 }) });
  const finished: JobInfo[] = [];
  while (finished.length < jobs.length) {
    await new Promise((r) => setTimeout(r, 100));
    finished.length = 0;
    for (const j of jobs) {
      const info = await front.models.jobs.get(j.tenantId, j.id);
      if (info.state === 'failed' || info.state === 'cancelled') throw new Error(`job ${j.id} ${info.state}: ${JSON.stringify(info.error)}`);
      if (info.state === 'succeeded') finished.push(info);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  progress(`workers=${workers}: ${jobs.length} models in ${seconds.toFixed(1)} s`);

  const perModel = finished.map((j) => Date.parse(j.finishedAt!) - Date.parse(j.startedAt!));
  const t = finished.map((j) => j.progress.timings!);
  const sum = (f: (x: (typeof t)[number]) => number) => t.reduce((s, x) => s + f(x), 0);
  const total = sum((x) => x.readMs + x.trainMs + x.evaluateMs + x.publishMs);
  const backtests = [];
  for (const j of jobs) {
    const v = await front.models.registry.versionForJob(j.tenantId, j.id);
    if (v?.metrics.backtest) backtests.push(v.metrics.backtest);
  }
  await front.close();
  return {
    workers,
    tenants: jobs.length,
    seconds: round(seconds, 2),
    tenantsPerMinute: round((jobs.length / seconds) * 60, 1),
    medianModelMs: Math.round(median(perModel)),
    share: { read: round(sum((x) => x.readMs) / total), train: round(sum((x) => x.trainMs) / total), evaluate: round(sum((x) => x.evaluateMs) / total), publish: round(sum((x) => x.publishMs) / total) },
    backtests,
  };
}

try {
  const one = await run(1);
  const two = await run(2);
  const backtests = [...(one.backtests as { model: { wape: number }; seasonalNaive: { wape: number } }[])];
  const modelWape = median(backtests.map((b) => b.model.wape));
  const naiveWape = median(backtests.map((b) => b.seasonalNaive.wape));
  const perTenantGain = backtests.map((b) => 1 - b.model.wape / b.seasonalNaive.wape);
  delete one.backtests;
  delete two.backtests;
  printResult({
    benchmark: 'training',
    workload: { tenants: TENANTS, rowsPerTenant: STORES * PRODUCTS * DAYS, series: STORES * PRODUCTS, model: TRAIN },
    oneWorker: one,
    twoWorkers: two,
    speedupTwoWorkers: round((two.tenantsPerMinute as number) / (one.tenantsPerMinute as number), 2),
    forecast: {
      horizon: TRAIN.forecast.horizon,
      medianWape: round(modelWape, 4),
      medianSeasonalNaiveWape: round(naiveWape, 4),
      wapeReductionVsSeasonalNaive: round(1 - modelWape / naiveWape, 3),
      medianPerTenantReduction: round(median(perTenantGain), 3),
      target: 'at least 0.2 lower WAPE than seasonal-naive',
    },
  });
} finally {
  await server.drop();
  const { rmSync } = await import('node:fs');
  rmSync(dataDir, { recursive: true, force: true });
}
