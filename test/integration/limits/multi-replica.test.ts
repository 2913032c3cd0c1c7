/**
 * The limit holds across replicas: three real server processes share one
 * PostgreSQL database and one Redis; tenant A sends five times its limit,
 * spread over all three, and the total admitted is the limit (±5%), not three
 * times it. Embedded PGlite cannot be shared by processes, so in embedded mode
 * the same flood goes to one in-process platform and must meet the same bound.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createServerDatabase, REDIS_URL, testMode } from '../../support/test-database.js';
import { type ServerProcess, startServerProcess } from '../../support/server-process.js';
import { startTestPlatform, TEST_ADMIN_KEY, type TestPlatform } from '../../support/test-platform.js';
import { deleteKeys } from './redis-test-support.js';

const RATE = 40;
// Two seconds of capacity: a process stalled on a busy machine for less than that loses no tokens.
const BURST = 80;
const DURATION_MS = 4000;
/** Five times what the limit admits over the run. */
const TOTAL = 5 * (BURST + (RATE * DURATION_MS) / 1000);

interface FloodResult {
  statuses: number[];
  /** The limiter decided each request between its send and its response: the decisions span at least this… */
  minSpanMs: number;
  /** …and at most this. */
  maxSpanMs: number;
}

/** Sends `TOTAL` requests evenly over `DURATION_MS`; returns the statuses and the bounds of the decisions' span. */
async function flood(send: (i: number) => Promise<number>): Promise<FloodResult> {
  const start = performance.now();
  const pending: Promise<number>[] = [];
  let lastSent = start;
  let firstDone = Number.POSITIVE_INFINITY;
  let lastDone = start;
  for (let i = 0; i < TOTAL; i++) {
    const due = start + (i * DURATION_MS) / TOTAL;
    const wait = due - performance.now();
    await (wait > 1 ? sleep(wait) : new Promise<void>((resolve) => setImmediate(resolve)));
    lastSent = performance.now();
    pending.push(
      send(i).then((status) => {
        const now = performance.now();
        firstDone = Math.min(firstDone, now);
        lastDone = Math.max(lastDone, now);
        return status;
      }),
    );
  }
  const statuses = await Promise.all(pending);
  return { statuses, minSpanMs: Math.max(0, lastSent - firstDone), maxSpanMs: lastDone - start };
}

function assertWithinLimit({ statuses, minSpanMs, maxSpanMs }: FloodResult, replicas: number, report: (msg: string) => void): void {
  const admitted = statuses.filter((s) => s === 200).length;
  const limited = statuses.filter((s) => s === 429).length;
  assert.equal(admitted + limited, statuses.length, `only 200 and 429 expected, got ${[...new Set(statuses)].join(', ')}`);
  const low = BURST + (RATE * minSpanMs) / 1000;
  const high = BURST + (RATE * maxSpanMs) / 1000;
  report(`${replicas} replica(s): admitted ${admitted} of ${statuses.length}; the limit allows ${low.toFixed(1)}–${high.toFixed(1)} over the decisions' span`);
  assert.ok(
    admitted >= 0.95 * low && admitted <= 1.05 * high,
    `${replicas} replica(s) admitted ${admitted} of ${statuses.length}; the limit allows ${low.toFixed(0)}–${high.toFixed(0)} (±5%)`,
  );
}

describe('tenant A floods five times its limit', () => {
  if (testMode() === 'servers') {
    const prefix = `test-${randomBytes(6).toString('hex')}:`;
    let database: Awaited<ReturnType<typeof createServerDatabase>>;
    let servers: ServerProcess[] = [];
    before(async () => {
      database = await createServerDatabase();
      const env = {
        DATABASE_URL: database.url,
        REDIS_URL,
        TENANTML_REDIS_PREFIX: prefix,
        TENANTML_ADMIN_KEY: TEST_ADMIN_KEY,
        LOG_LEVEL: 'warn',
        // This test is about sharing, not degradation: on a starved machine a slow Redis answer must not count as an outage.
        TENANTML_RATE_LIMIT_TIMEOUT_MS: '5000',
      };
      // One at a time: the first applies the migrations, the others find them done.
      servers.push(await startServerProcess(env));
      servers = servers.concat(await Promise.all([startServerProcess(env), startServerProcess(env)]));
    });
    after(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await database?.drop();
      const redis = new Redis(REDIS_URL);
      await deleteKeys(redis, prefix);
      await redis.quit();
    });

    test('three server processes sharing PostgreSQL and Redis admit the limit once, not three times', async (ctx) => {
      const created = await fetch(`${servers[0]!.url}/v1/admin/tenants`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'flooder', name: 'Flooder', limits: { requestsPerSecond: RATE, burst: BURST } }),
      });
      assert.equal(created.status, 201, await created.clone().text());
      const { apiKey } = (await created.json()) as { apiKey: string };
      // Warm every replica's auth cache without touching the bucket's long-run figure much.
      for (const s of servers) assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
      await sleep(BURST / RATE * 1000);

      const result = await flood(async (i) => {
        const res = await fetch(`${servers[i % servers.length]!.url}/v1/datasets`, { headers: { authorization: `Bearer ${apiKey}` } });
        await res.arrayBuffer();
        return res.status;
      });
      const perReplica = servers.map((_, r) => result.statuses.filter((s, i) => s === 200 && i % servers.length === r).length);
      assert.ok(perReplica.every((n) => n > 0), `every replica admitted some: ${perReplica.join(', ')}`);
      for (const s of servers) {
        const metrics = await (await fetch(`${s.url}/metrics`)).text();
        assert.match(metrics, /^tenantml_ratelimit_fallback 0$/m, 'every replica stayed on the shared limits');
      }
      assertWithinLimit(result, servers.length, (m) => ctx.diagnostic(m));
    });
  } else {
    let t: TestPlatform;
    before(async () => {
      t = await startTestPlatform();
    });
    after(() => t.close());

    test('one process (embedded mode: PGlite is not shared between processes) admits the limit', async (ctx) => {
      const a = await t.createTenant('flooder', { limits: { requestsPerSecond: RATE, burst: BURST } });
      const result = await flood(async () => (await t.call(a.key, 'GET', '/v1/datasets')).statusCode);
      assertWithinLimit(result, 1, (m) => ctx.diagnostic(m));
    });
  }
});
