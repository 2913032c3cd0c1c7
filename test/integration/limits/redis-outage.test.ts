import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { createRateLimiter } from '../../../src/limits/create-rate-limiter.js';
import type { LimiterModeChange } from '../../../src/limits/degrading-rate-limiter.js';
import { createLimitsRedisClient } from '../../../src/limits/limits-redis-client.js';
import { rateLimitKey, type RateLimitRequest } from '../../../src/limits/rate-limiter.js';
import { freePort, killRedis, startThrowawayRedis } from './redis-test-support.js';

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

describe('rate limiting through a Redis outage', () => {
  // A private server: the shared one on 6379 is never touched by this test.
  let port = 0;
  let server: ChildProcess | undefined;
  let client: Redis | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    port = await freePort();
    server = await startThrowawayRedis(port);
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    client?.disconnect();
    if (server) await killRedis(server);
  });

  it('falls back to local limits when Redis dies and returns to Redis when it is back', async () => {
    client = createLimitsRedisClient(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 100, maxReconnectDelayMs: 100 });
    await waitFor(() => client?.status === 'ready', 5000);
    const changes: LimiterModeChange[] = [];
    const limiter = createRateLimiter({
      kind: 'redis-with-fallback',
      redis: client,
      keyPrefix: 'outage:',
      timeoutMs: 100,
      probeIntervalMs: 50,
      onModeChange: (change) => changes.push(change),
    });
    const request: RateLimitRequest = { tenantId: 'tenant-b', bucket: 'default', rate: 0.01, burst: 3 };

    const shared = await limiter.consume(request);
    assert.equal(limiter.mode, 'redis');
    assert.equal(shared.remaining, 2);
    assert.equal(await client.exists(rateLimitKey('outage:', 'tenant-b', 'default')), 1);

    await killRedis(server!);
    server = undefined;
    const startedAt = Date.now();
    const during = [];
    for (let i = 0; i < 5; i++) during.push(await limiter.consume(request));
    assert.ok(Date.now() - startedAt < 2000, 'decisions stay fast while Redis is down');
    assert.equal(limiter.mode, 'local-fallback');
    // The local bucket starts full and enforces the same limit: 3 admitted, then refusals.
    assert.deepEqual(
      during.map((d) => d.allowed),
      [true, true, true, false, false],
    );

    server = await startThrowawayRedis(port);
    assert.ok(await waitFor(() => limiter.mode === 'redis', 10_000), 'limiter returned to Redis');
    const back = await limiter.consume(request);
    assert.equal(back.allowed, true);
    assert.equal(back.remaining, 2, 'answered by the restarted (empty) Redis');
    assert.equal(await client.exists(rateLimitKey('outage:', 'tenant-b', 'default')), 1);

    assert.deepEqual(
      changes.map((c) => c.mode),
      ['local-fallback', 'redis'],
    );
    assert.deepEqual(unhandled, []);
    await limiter.close();
  });
});
