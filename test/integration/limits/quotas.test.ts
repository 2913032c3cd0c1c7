/**
 * Quotas on the real platform: prediction quotas persist in Postgres across a
 * restart (a new platform on the same database), reset at UTC midnight and at
 * the month boundary, refuse with 429 and the reset time; the storage quota
 * blocks an upload that would pass it and leaves the dataset as it was; a
 * purge takes the usage rows with it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../../src/config.js';
import { isAppError } from '../../../src/errors.js';
import { runPrediction } from '../../../src/limits/run-prediction.js';
import { createPlatform, type Platform } from '../../../src/platform.js';
import { effectiveLimits } from '../../../src/tenancy/tenant.js';
import { createServerDatabase, REDIS_URL, testMode } from '../../support/test-database.js';
import { startTestPlatform, TEST_ADMIN_KEY } from '../../support/test-platform.js';

/** Platforms that can be closed and reopened on the same database (PGlite on disk, or a PostgreSQL database). */
async function reopenableDatabase(): Promise<{ open(clock: () => number): Promise<Platform>; drop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenantml-quota-'));
  const server = testMode() === 'servers' ? await createServerDatabase() : undefined;
  const env: Record<string, string> = { TENANTML_ADMIN_KEY: TEST_ADMIN_KEY, TENANTML_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  if (server) Object.assign(env, { DATABASE_URL: server.url, REDIS_URL, TENANTML_REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}:` });
  return {
    open: (clock) => createPlatform(loadConfig(env), { clock }),
    async drop() {
      await server?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const quotaError = (code: string) => (e: unknown) => isAppError(e) && e.code === code;

describe('prediction quotas', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test('survive a restart and reset at UTC midnight; the month keeps counting', async () => {
    const store = await reopenableDatabase();
    cleanups.push(() => store.drop());
    let now = Date.parse('2025-03-31T23:59:58Z');
    const clock = () => now;

    let platform = await store.open(clock);
    const created = await platform.tenants.create({ id: 'quota-co', name: 'Quota Co', limits: { dailyPredictions: 100, monthlyPredictions: 250 } });
    const tenant = { tenantId: 'quota-co', limits: effectiveLimits(created.tenant.limits) };
    await platform.quotas.consumePredictions(tenant, 70);
    await platform.close();

    platform = await store.open(clock);
    await assert.rejects(platform.quotas.consumePredictions(tenant, 31), (e: unknown) => {
      assert.ok(quotaError('quota_exceeded')(e), String(e));
      const err = e as { details?: Record<string, unknown>; retryAfterSeconds?: number; status: number };
      assert.equal(err.status, 429);
      assert.equal(err.details?.resetAt, '2025-04-01T00:00:00.000Z');
      assert.equal(err.details?.used, 70, 'the 70 rows from before the restart count');
      assert.equal(err.retryAfterSeconds, 2);
      return true;
    });
    const charge = await platform.quotas.consumePredictions(tenant, 30);
    assert.deepEqual(charge.windows.map((w) => [w.window, w.used]), [['day:2025-03-31', 100], ['month:2025-03', 100]]);

    now = Date.parse('2025-04-01T00:00:01Z');
    const nextDay = await platform.quotas.predictionUsage(tenant);
    assert.deepEqual(nextDay.map((w) => [w.window, w.used, w.remaining]), [['day:2025-04-01', 0, 100], ['month:2025-04', 0, 250]]);
    await platform.quotas.consumePredictions(tenant, 100);

    now = Date.parse('2025-04-02T08:00:00Z');
    await platform.quotas.consumePredictions(tenant, 100);
    now = Date.parse('2025-04-03T08:00:00Z');
    await assert.rejects(platform.quotas.consumePredictions(tenant, 51), (e: unknown) => {
      assert.ok(quotaError('quota_exceeded')(e));
      assert.equal((e as { details?: Record<string, unknown> }).details?.resetAt, '2025-05-01T00:00:00.000Z', 'the month is spent');
      return true;
    });
    const day = await platform.quotas.predictionUsage(tenant);
    assert.equal(day[0]!.used, 0, 'a refusal charges nothing, not even the day');
    await platform.close();

    platform = await store.open(clock);
    const after = await platform.quotas.predictionUsage(tenant);
    assert.deepEqual(after.map((w) => w.used), [0, 200]);
    const stored = await platform.db.withTenant('quota-co', (tx) =>
      tx.query<{ window_key: string; used: string | number }>(`select window_key, used from tenant_usage where counter = 'predictions' order by window_key`),
    );
    assert.deepEqual(
      stored.rows.map((r) => [r.window_key, Number(r.used)]),
      [['day:2025-03-31', 100], ['day:2025-04-01', 100], ['day:2025-04-02', 100], ['month:2025-03', 100], ['month:2025-04', 200]],
    );
    await platform.close();
  });

  test('runPrediction charges rows, runs them on the scheduler, and refunds work that failed', async () => {
    const t = await startTestPlatform();
    cleanups.push(() => t.close());
    const created = await t.platform.tenants.create({ id: 'runner', name: 'Runner', limits: { dailyPredictions: 10_000, maxConcurrent: 1 } });
    const tenant = { tenantId: 'runner', limits: effectiveLimits(created.tenant.limits) };
    const deps = { quotas: t.platform.quotas, compute: t.platform.compute };

    const small = await runPrediction(deps, { tenant, rows: 3 }, (start, end) => Array.from({ length: end - start }, (_, i) => start + i));
    assert.deepEqual(small, [0, 1, 2]);
    const slices: Array<[number, number]> = [];
    const big = await runPrediction(deps, { tenant, rows: 5000, sliceRows: 2000 }, (start, end) => {
      slices.push([start, end]);
      return Array.from({ length: end - start }, () => 1);
    });
    assert.equal(big.length, 5000);
    assert.deepEqual(slices, [[0, 2000], [2000, 4000], [4000, 5000]], 'a large request runs as batch slices');
    await assert.rejects(runPrediction(deps, { tenant, rows: 7 }, () => Promise.reject(new Error('model blew up'))), /model blew up/);
    const usage = await t.platform.quotas.predictionUsage(tenant);
    assert.equal(usage[0]!.used, 5003, 'the failed 7 rows were refunded');
    assert.equal(t.platform.compute.stats('runner').started, 5);
  });
});

describe('storage quota', () => {
  test('an upload that would pass storageBytes is refused with 429 and leaves the dataset unchanged', async () => {
    const t = await startTestPlatform();
    try {
      const a = await t.createTenant('small-store', { limits: { storageBytes: 60 } });
      assert.equal((await t.call(a.key, 'POST', '/v1/datasets', { name: 'sales' })).statusCode, 201);
      const csv = { 'content-type': 'text/csv' };
      const first = await t.call(a.key, 'POST', '/v1/datasets/sales/rows', 'store,units\n1,5\n2,7\n', csv);
      assert.equal(first.statusCode, 200, first.body);
      const before = (await t.call(a.key, 'GET', '/v1/datasets/sales')).json();

      const tooBig = await t.call(a.key, 'POST', '/v1/datasets/sales/rows', `store,units\n${'3,9\n'.repeat(20)}`, csv);
      assert.equal(tooBig.statusCode, 429, tooBig.body);
      assert.equal(tooBig.json().error.code, 'quota_exceeded');
      assert.equal(tooBig.json().error.details.quota, 'storageBytes');
      assert.ok(Number(tooBig.headers['retry-after']) >= 1);
      assert.ok(tooBig.headers.ratelimit, 'the refusal carries the RateLimit fields too');

      const afterRefusal = (await t.call(a.key, 'GET', '/v1/datasets/sales')).json();
      assert.equal(afterRefusal.rowCount, before.rowCount);
      assert.equal(afterRefusal.sizeBytes ?? afterRefusal.rowCount, before.sizeBytes ?? before.rowCount);
      const rows = (await t.call(a.key, 'GET', '/v1/datasets/sales/rows')).json().rows;
      assert.deepEqual(rows, [{ store: 1, units: 5 }, { store: 2, units: 7 }]);
      const pending = await t.platform.db.withTenant(a.id, (tx) => tx.query(`select 1 from dataset_uploads where state <> 'committed'`));
      assert.equal(pending.rowCount, 0, 'the refused upload left nothing behind');

      const small = await t.call(a.key, 'POST', '/v1/datasets/sales/rows', 'store,units\n3,9\n', csv);
      assert.equal(small.statusCode, 200, 'what still fits is accepted');
      const usage = (await t.call(a.key, 'GET', '/v1/usage')).json();
      assert.equal(usage.storage.limit, 60);
      assert.ok(usage.storage.used > 0 && usage.storage.used <= 60, `used ${usage.storage.used}`);
      assert.equal(usage.storage.bySource.datasets, usage.storage.used);
    } finally {
      await t.close();
    }
  });

  test('a purge deletes the usage rows and forgets the buffered counters', async () => {
    const t = await startTestPlatform();
    try {
      const a = await t.createTenant('purged-co');
      assert.equal((await t.call(a.key, 'GET', '/v1/datasets')).statusCode, 200);
      await t.platform.quotas.consumePredictions({ tenantId: a.id, limits: effectiveLimits({}) }, 5);
      await t.platform.limits.usageStore.flush();
      assert.equal((await t.call(a.key, 'GET', '/v1/datasets')).statusCode, 200, 'a counter is buffered again');
      const receipt = await t.call(t.adminKey, 'DELETE', `/v1/admin/tenants/${a.id}`);
      assert.equal(receipt.statusCode, 200, receipt.body);
      assert.ok(receipt.json().deleted.tenant_usage >= 2, JSON.stringify(receipt.json()));
      await t.platform.limits.usageStore.flush();
      const left = await t.platform.db.withSystem((tx) => tx.query(`select 1 from tenant_usage where tenant_id = 'purged-co'`));
      assert.equal(left.rowCount, 0);
    } finally {
      await t.close();
    }
  });
});
