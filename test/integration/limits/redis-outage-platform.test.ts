/**
 * Redis dies under two platforms that share it (a private redis-server on a
 * random port; the shared one is never touched): requests keep being served
 * under per-process limits, the switch is visible in metrics, and when Redis
 * is back the limits are shared again.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';
import { freePort, killRedis, startThrowawayRedis } from './redis-test-support.js';

let port: number;
let redis: ChildProcess;
let p1: TestPlatform;
let p2: TestPlatform;
let k1: TestTenant;
let k2: TestTenant;

const BURST = 4;
// Slow enough that the bucket does not refill noticeably during one step.
const limits = { requestsPerSecond: 0.05, burst: BURST };

before(async () => {
  port = await freePort();
  redis = await startThrowawayRedis(port);
  const env = {
    REDIS_URL: `redis://127.0.0.1:${port}`,
    TENANTML_REDIS_PREFIX: `outage-${randomBytes(4).toString('hex')}:`,
    // A dead Redis fails at once (no offline queue); a generous timeout keeps a slow-but-alive one on a busy machine from counting as down.
    TENANTML_RATE_LIMIT_TIMEOUT_MS: '2000',
  };
  p1 = await startTestPlatform(env);
  p2 = await startTestPlatform(env);
  // The same tenant id in both platforms' databases: its buckets are the same keys in Redis.
  k1 = await p1.createTenant('shared-co', { limits });
  k2 = await p2.createTenant('shared-co', { limits });
});
after(async () => {
  await p1?.close();
  await p2?.close();
  if (redis) await killRedis(redis);
});

async function statuses(t: TestPlatform, key: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await t.call(key, 'GET', '/v1/datasets')).statusCode);
  return out;
}

const fallbackGauge = async (t: TestPlatform) => /^tenantml_ratelimit_fallback (\d)$/m.exec((await t.call(null, 'GET', '/metrics')).body)?.[1];

test('shared limits, then local limits while Redis is down, then shared again', async () => {
  assert.equal(p1.platform.limits.limiter.mode, 'redis');
  // Shared: what p1 spends, p2 cannot.
  assert.deepEqual(await statuses(p1, k1.key, BURST), [200, 200, 200, 200]);
  assert.deepEqual(await statuses(p2, k2.key, 1), [429], 'the bucket is shared through Redis');

  await killRedis(redis);
  // Each process now enforces the limit on its own: both serve, both still limit.
  const during1 = await statuses(p1, k1.key, BURST + 1);
  const during2 = await statuses(p2, k2.key, BURST + 1);
  assert.deepEqual(during1, [200, 200, 200, 200, 429], 'local limits on p1');
  assert.deepEqual(during2, [200, 200, 200, 200, 429], 'local limits on p2');
  assert.equal(p1.platform.limits.limiter.mode, 'local-fallback');
  assert.equal(await fallbackGauge(p1), '1', 'the fallback is visible in metrics');
  assert.match((await p1.call(null, 'GET', '/metrics')).body, /tenantml_ratelimit_fallback_switches_total\{mode="local-fallback"\} 1/);
  assert.equal((await p1.call(null, 'GET', '/readyz')).statusCode, 200, 'still ready: limits degrade, they do not fail');

  redis = await startThrowawayRedis(port);
  for (let i = 0; i < 100 && (p1.platform.limits.limiter.mode !== 'redis' || p2.platform.limits.limiter.mode !== 'redis'); i++) await sleep(100);
  assert.equal(p1.platform.limits.limiter.mode, 'redis', 'p1 is back on Redis');
  assert.equal(p2.platform.limits.limiter.mode, 'redis', 'p2 is back on Redis');
  assert.equal(await fallbackGauge(p1), '0');

  // The new Redis is empty: a full shared bucket again, spent across both platforms.
  assert.deepEqual(await statuses(p1, k1.key, 2), [200, 200]);
  assert.deepEqual(await statuses(p2, k2.key, 3), [200, 200, 429], 'shared again: p2 sees what p1 spent');
});
