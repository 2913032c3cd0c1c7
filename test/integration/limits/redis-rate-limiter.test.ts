import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisRateLimiter } from '../../../src/limits/redis-rate-limiter.js';
import { rateLimitKey, type RateLimitRequest } from '../../../src/limits/rate-limiter.js';
import { deleteKeys, randomKeyPrefix, SHARED_REDIS_URL } from './redis-test-support.js';

describe('Redis rate limiter', () => {
  const prefix = randomKeyPrefix();
  const clients: Redis[] = [];

  before(async () => {
    for (let i = 0; i < 4; i++) clients.push(new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 1 }));
  });

  after(async () => {
    await deleteKeys(clients[0]!, prefix);
    await Promise.all(clients.map((c) => c.quit()));
  });

  const request = (over: Partial<RateLimitRequest> = {}): RateLimitRequest => ({
    tenantId: 'tenant-a',
    bucket: 'default',
    rate: 10,
    burst: 5,
    ...over,
  });

  it('spends the burst, then refuses with the time to the next unit', async () => {
    const limiter = createRedisRateLimiter({ redis: clients[0]!, keyPrefix: prefix });
    const seen = [];
    for (let i = 0; i < 5; i++) seen.push(await limiter.consume(request({ tenantId: 'values' })));
    assert.ok(seen.every((d) => d.allowed && d.limit === 5));
    assert.deepEqual(
      seen.map((d) => d.remaining),
      [4, 3, 2, 1, 0],
    );
    const refused = await limiter.consume(request({ tenantId: 'values' }));
    assert.equal(refused.allowed, false);
    assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 100, `retry after ${refused.retryAfterMs} ms`);
    assert.equal(refused.retryAfterSeconds, 1);
    assert.ok(refused.resetMs > 400 && refused.resetMs <= 500);
    await new Promise((r) => setTimeout(r, refused.retryAfterMs + 5));
    assert.equal((await limiter.consume(request({ tenantId: 'values' }))).allowed, true);
  });

  it('stores the bucket under a key carrying the tenant id, expiring once full', async () => {
    const limiter = createRedisRateLimiter({ redis: clients[0]!, keyPrefix: prefix });
    await limiter.consume(request({ tenantId: 'keyed', bucket: 'predict', cost: 3 }));
    const key = rateLimitKey(prefix, 'keyed', 'predict');
    assert.ok(key.includes('{keyed}'));
    const ttl = await clients[0]!.pttl(key);
    assert.ok(ttl > 0 && ttl <= 300, `ttl ${ttl}`);
    assert.equal(await limiter.forgetTenant('keyed'), 1);
    assert.equal(await clients[0]!.exists(key), 0);
  });

  it('is atomic: concurrent decisions from several connections admit exactly the burst', async () => {
    const limiters = clients.map((redis) => createRedisRateLimiter({ redis, keyPrefix: prefix }));
    // A rate so slow that nothing refills during the test.
    const contested = request({ tenantId: 'contested', rate: 0.001, burst: 100 });
    const decisions = await Promise.all(Array.from({ length: 600 }, (_, i) => limiters[i % limiters.length]!.consume(contested)));
    assert.equal(decisions.filter((d) => d.allowed).length, 100);
    const remaining = decisions.filter((d) => d.allowed).map((d) => d.remaining).sort((a, b) => a - b);
    assert.deepEqual(remaining, Array.from({ length: 100 }, (_, i) => i), 'each unit handed out once');
  });

  it('charges costs above 1 atomically', async () => {
    const limiter = createRedisRateLimiter({ redis: clients[1]!, keyPrefix: prefix });
    const costly = request({ tenantId: 'costly', rate: 0.001, burst: 10 });
    const decisions = await Promise.all(Array.from({ length: 20 }, () => limiter.consume({ ...costly, cost: 3 })));
    assert.equal(decisions.filter((d) => d.allowed).length, 3);
    const last = await limiter.consume({ ...costly, cost: 1 });
    assert.equal(last.allowed, true);
    assert.equal(last.remaining, 0);
  });
});
