import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAppError } from '../../../src/errors.js';
import { createMemoryRateLimiter } from '../../../src/limits/memory-rate-limiter.js';
import { rateLimitKey, type RateLimitRequest } from '../../../src/limits/rate-limiter.js';

function fixture(start = 1_700_000_000_000, sweepEvery?: number) {
  let now = start;
  const limiter = createMemoryRateLimiter({ clock: () => now, ...(sweepEvery === undefined ? {} : { sweepEvery }) });
  return {
    limiter,
    advance(ms: number) {
      now += ms;
    },
  };
}

const bucket = (over: Partial<RateLimitRequest> = {}): RateLimitRequest => ({
  tenantId: 't1',
  bucket: 'default',
  rate: 10,
  burst: 5,
  ...over,
});

describe('memory rate limiter (GCRA)', () => {
  it('admits a full burst at once, counting remaining down, then refuses', async () => {
    const { limiter } = fixture();
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await limiter.consume(bucket());
      assert.equal(d.allowed, true);
      assert.equal(d.limit, 5);
      assert.equal(d.retryAfterSeconds, 0);
      remaining.push(d.remaining);
    }
    assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
    const refused = await limiter.consume(bucket());
    assert.equal(refused.allowed, false);
    assert.equal(refused.remaining, 0);
    assert.ok(Math.abs(refused.retryAfterMs - 100) < 1e-6, `retry after ${refused.retryAfterMs} ms`);
    assert.equal(refused.retryAfterSeconds, 1);
  });

  it('refills one unit per emission interval and never beyond the burst', async () => {
    const { limiter, advance } = fixture();
    for (let i = 0; i < 5; i++) await limiter.consume(bucket());
    advance(99);
    assert.equal((await limiter.consume(bucket())).allowed, false);
    advance(1);
    const one = await limiter.consume(bucket());
    assert.equal(one.allowed, true);
    assert.equal(one.remaining, 0);
    advance(60_000);
    const after = await limiter.consume(bucket());
    assert.equal(after.remaining, 4, 'a long pause refills to the burst, not past it');
  });

  it('retrying exactly after retryAfterMs succeeds, and a moment earlier does not', async () => {
    const { limiter, advance } = fixture();
    const slow = bucket({ rate: 0.5, burst: 1 });
    assert.equal((await limiter.consume(slow)).allowed, true);
    const refused = await limiter.consume(slow);
    assert.equal(refused.allowed, false);
    assert.ok(Math.abs(refused.retryAfterMs - 2000) < 1e-6);
    assert.equal(refused.retryAfterSeconds, 2);
    advance(1500);
    const later = await limiter.consume(slow);
    assert.equal(later.allowed, false);
    assert.equal(later.retryAfterSeconds, 1, '500 ms rounds up to 1 s');
    advance(later.retryAfterMs - 1);
    assert.equal((await limiter.consume(slow)).allowed, false);
    advance(1);
    assert.equal((await limiter.consume(slow)).allowed, true);
  });

  it('charges costs above 1 and never charges a refused request', async () => {
    const { limiter, advance } = fixture();
    const big = bucket({ rate: 1, burst: 10 });
    const first = await limiter.consume({ ...big, cost: 4 });
    assert.equal(first.remaining, 6);
    const refused = await limiter.consume({ ...big, cost: 7 });
    assert.equal(refused.allowed, false);
    assert.ok(Math.abs(refused.retryAfterMs - 1000) < 1e-6, 'one unit short = one emission interval');
    assert.equal(refused.remaining, 6, 'refusal left the bucket untouched');
    const rest = await limiter.consume({ ...big, cost: 6 });
    assert.equal(rest.allowed, true);
    assert.equal(rest.remaining, 0);
    advance(3000);
    assert.equal((await limiter.consume({ ...big, cost: 3 })).allowed, true);
  });

  it('reports the time until the bucket is full as reset', async () => {
    const { limiter, advance } = fixture();
    const wide = bucket({ rate: 10, burst: 100 });
    const d = await limiter.consume({ ...wide, cost: 50 });
    assert.ok(Math.abs(d.resetMs - 5000) < 1e-6);
    assert.equal(d.resetSeconds, 5);
    advance(4200);
    const peek = await limiter.consume({ ...wide, cost: 0 });
    assert.equal(peek.allowed, true);
    assert.equal(peek.resetSeconds, 1, '800 ms rounds up');
    assert.equal(peek.remaining, 92);
  });

  it('rejects a cost larger than the bucket as invalid instead of refusing forever', async () => {
    const { limiter } = fixture();
    await assert.rejects(limiter.consume(bucket({ cost: 6 })), (e) => isAppError(e) && e.code === 'validation_failed');
  });

  it('keeps tenants and buckets apart, and forgets a purged tenant', async () => {
    const { limiter } = fixture();
    for (let i = 0; i < 5; i++) await limiter.consume(bucket());
    assert.equal((await limiter.consume(bucket())).allowed, false);
    assert.equal((await limiter.consume(bucket({ tenantId: 't2' }))).allowed, true);
    assert.equal((await limiter.consume(bucket({ bucket: 'predict' }))).allowed, true);
    assert.equal(await limiter.forgetTenant('t1'), 2);
    assert.equal((await limiter.consume(bucket())).remaining, 4);
  });

  it('sweeps away tenants whose buckets have all refilled, and keeps those still draining', async () => {
    const { limiter, advance } = fixture(1_700_000_000_000, 4);
    await limiter.consume(bucket());
    await limiter.consume(bucket({ bucket: 'predict' }));
    advance(1000); // both refilled: 1 token at 10/s is back after 100 ms
    await limiter.consume(bucket({ tenantId: 't2' }));
    await limiter.consume(bucket({ tenantId: 't2' })); // the fourth decision sweeps
    assert.equal(await limiter.forgetTenant('t1'), 0);
    assert.equal(await limiter.forgetTenant('t2'), 1);
  });

  it('puts the tenant id into every key', () => {
    const key = rateLimitKey('p:', 'acme:corp}', 'train');
    assert.equal(key, 'p:rl:{acme%3Acorp%7D}:train');
    assert.notEqual(rateLimitKey('p:', 'a', 'train'), rateLimitKey('p:', 'b', 'train'));
  });
});
