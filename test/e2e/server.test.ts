/**
 * The newcomer's path, end to end over HTTP against the real server process:
 * first start prints the URL and an operator key; that key creates a tenant; the
 * tenant uploads rows and reads them back; another tenant gets 404.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServerDatabase, REDIS_URL, testMode } from '../support/test-database.js';
import { type ServerProcess, startServerProcess } from '../support/server-process.js';

let server: ServerProcess;
let dataDir: string;
let dropDb: (() => Promise<void>) | undefined;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tenantml-e2e-'));
  const env: Record<string, string> = { TENANTML_DATA_DIR: dataDir };
  if (testMode() === 'servers') {
    const db = await createServerDatabase();
    env.DATABASE_URL = db.url;
    env.REDIS_URL = REDIS_URL;
    dropDb = db.drop;
  }
  server = await startServerProcess(env);
});
after(async () => {
  await server?.stop();
  await dropDb?.();
  rmSync(dataDir, { recursive: true, force: true });
});

async function api(key: string | null, method: string, path: string, body?: unknown, type = 'application/json') {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': type } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
}

test('first start prints the URL and a one-time operator key; the walkthrough works over HTTP', async () => {
  const key = /operator key \(shown once, store it now\): (tmladm_\S+)/.exec(server.output())?.[1];
  assert.ok(key, `operator key printed:\n${server.output()}`);
  assert.equal((await api(null, 'GET', '/readyz')).status, 200);

  const acme = await api(key, 'POST', '/v1/admin/tenants', { id: 'acme', name: 'Acme' });
  assert.equal(acme.status, 201);
  const globex = await api(key, 'POST', '/v1/admin/tenants', { id: 'globex', name: 'Globex' });
  const acmeKey = acme.json.apiKey as string;

  assert.equal((await api(acmeKey, 'POST', '/v1/datasets', { name: 'sales' })).status, 201);
  const up = await api(acmeKey, 'POST', '/v1/datasets/sales/rows', 'store,day,units\n1,2026-01-01,5\n1,2026-01-02,7\n', 'text/csv');
  assert.equal(up.status, 200);
  assert.equal(up.json.rowsAdded, 2);
  const rows = await api(acmeKey, 'GET', '/v1/datasets/sales/rows');
  assert.deepEqual(rows.json.rows, [
    { store: 1, day: '2026-01-01', units: 5 },
    { store: 1, day: '2026-01-02', units: 7 },
  ]);
  const stolen = await api(globex.json.apiKey, 'GET', '/v1/datasets/sales');
  assert.equal(stolen.status, 404);
  assert.equal(stolen.json.error.code, 'not_found');
});

test('a bad configuration value stops the start with a message naming the variable', async () => {
  await assert.rejects(startServerProcess({ TENANTML_DATA_DIR: dataDir, PORT: 'eighty' }, 15_000), /PORT="eighty": expected an integer/);
});
