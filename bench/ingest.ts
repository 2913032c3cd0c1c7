/**
 * Dataset ingest throughput: CSV rows streamed through parsing, validation and
 * batched inserts, into the PostgreSQL server and into PGlite, through the HTTP
 * route on a real socket. Target: ≥ 50,000 rows/s into PostgreSQL.
 */
import { Readable } from 'node:stream';
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/create-db.js';
import type { Db } from '../src/db/db.js';
import { buildApp } from '../src/http/app.js';
import { createPlatform } from '../src/platform.js';
import { createServerDatabase } from '../test/support/test-database.js';
import { argNumber, median, printResult, progress, round } from './_harness.js';

const ROWS = argNumber('rows', 200_000);
const RUNS = argNumber('runs', 3);
const ADMIN = 'tmladm_bench-operator-key-000000';

function csvBody(rows: number, seed: number): string {
  const lines = ['store_id,day,units,price,promo,temperature,category,holiday'];
  let x = seed;
  for (let i = 0; i < rows; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const day = new Date(Date.UTC(2025, 0, 1) + (i % 700) * 86_400_000).toISOString().slice(0, 10);
    lines.push(`${x % 500},${day},${x % 37},${((x % 1000) / 100).toFixed(2)},${x % 5 === 0},${((x % 400) / 10 - 5).toFixed(1)},cat${x % 12},${x % 31 === 0}`);
  }
  return `${lines.join('\n')}\n`;
}

async function measure(label: string, db: Db): Promise<Record<string, unknown>> {
  const config = loadConfig({ TENANTML_ADMIN_KEY: ADMIN, LOG_LEVEL: 'silent', TENANTML_MAX_UPLOAD: '1GB' });
  const platform = await createPlatform(config, { db });
  const app = await buildApp(platform, { logger: false });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const { apiKey } = await platform.tenants.create({ id: 'bench', name: 'bench' });
  const body = csvBody(ROWS, 42);
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const name = `sales${run}`;
    await platform.datasets.create('bench', name);
    const t0 = performance.now();
    const res = await fetch(`${base}/v1/datasets/${name}/rows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/csv' },
      body: Readable.toWeb(Readable.from([Buffer.from(body)])) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const json = (await res.json()) as { rowsAdded: number };
    const seconds = (performance.now() - t0) / 1000;
    if (json.rowsAdded !== ROWS) throw new Error(`${label}: expected ${ROWS} rows, got ${JSON.stringify(json)}`);
    rates.push(ROWS / seconds);
    progress(`${label} run ${run + 1}: ${Math.round(ROWS / seconds)} rows/s`);
  }
  await app.close();
  await platform.close();
  return { rowsPerUpload: ROWS, runs: RUNS, medianRowsPerSecond: Math.round(median(rates)), allRowsPerSecond: rates.map((r) => Math.round(r)), bytesPerUpload: body.length };
}

const server = await createServerDatabase();
const postgres = await measure('postgres', await createDb({ databaseUrl: server.url }));
await server.drop();
const pglite = await measure('pglite', await createDb({}));
printResult({
  benchmark: 'ingest',
  path: 'HTTP POST /v1/datasets/:name/rows, text/csv streamed on loopback: parse + validate + batched insert + commit',
  postgres,
  pglite,
  targetRowsPerSecond: 50_000,
  postgresMeetsTarget: (postgres.medianRowsPerSecond as number) >= 50_000,
  pgliteVsPostgres: round((pglite.medianRowsPerSecond as number) / (postgres.medianRowsPerSecond as number)),
});
