import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors, isAppError } from '../../../src/errors.js';
import { createDegradingRateLimiter, type LimiterModeChange } from '../../../src/limits/degrading-rate-limiter.js';
import { createMemoryRateLimiter } from '../../../src/limits/memory-rate-limiter.js';
import type { RateLimitDecision, RateLimitRequest } from '../../../src/limits/rate-limiter.js';
import type { ProbeableRateLimiter } from '../../../src/limits/redis-rate-limiter.js';

type Behaviour = 'ok' | 'fail' | 'hang';

/** A stand-in for the Redis limiter whose health the test switches. */
function fakePrimary() {
  let behaviour: Behaviour = 'ok';
  let calls = 0;
  const answer = (): RateLimitDecision => ({
    allowed: true,
    limit: 99,
    remaining: 98,
    resetSeconds: 1,
    retryAfterSeconds: 0,
    resetMs: 10,
    retryAfterMs: 0,
  });
  const act = <T>(value: () => T): Promise<T> => {
    calls++;
    if (behaviour === 'fail') return Promise.reject(new Error('connection is closed'));
    if (behaviour === 'hang') return new Promise<T>(() => {});
    return Promise.resolve(value());
  };
  const primary: ProbeableRateLimiter = {
    mode: 'redis',
    consume: (request) => {
      if ((request.cost ?? 1) > request.burst) return Promise.reject(errors.validation('too big'));
      return act(answer);
    },
    forgetTenant: () => act(() => 0),
    ping: () => act(() => undefined),
    close: async () => {},
  };
  return {
    primary,
    set: (next: Behaviour) => {
      behaviour = next;
    },
    calls: () => calls,
  };
}

const request: RateLimitRequest = { tenantId: 't1', bucket: 'default', rate: 1, burst: 2 };

describe('degrading rate limiter', () => {
  it('falls back to local limits on errors and timeouts, logs once, and returns when a probe succeeds', async () => {
    const fake = fakePrimary();
    const changes: LimiterModeChange[] = [];
    const warnings: string[] = [];
    const limiter = createDegradingRateLimiter({
      primary: fake.primary,
      fallback: createMemoryRateLimiter(),
      timeoutMs: 20,
      probeIntervalMs: 60_000,
      onModeChange: (c) => changes.push(c),
      logger: { warn: (_o, m) => warnings.push(m), info: () => {} },
    });
    assert.equal((await limiter.consume(request)).limit, 99, 'answered by the primary');
    assert.equal(limiter.mode, 'redis');

    fake.set('hang');
    const local = await limiter.consume(request);
    assert.equal(limiter.mode, 'local-fallback');
    assert.equal(local.limit, 2, 'answered by the local bucket');
    // Local limits are real limits: the burst of 2 is spent after the second local decision.
    assert.equal((await limiter.consume(request)).allowed, true);
    assert.equal((await limiter.consume(request)).allowed, false);
    assert.equal(warnings.length, 1, 'one log line per transition');

    fake.set('fail');
    assert.equal(await limiter.probeNow(), false);
    assert.equal(limiter.mode, 'local-fallback');
    fake.set('ok');
    assert.equal(await limiter.probeNow(), true);
    assert.equal(limiter.mode, 'redis');
    assert.equal((await limiter.consume(request)).limit, 99);
    assert.deepEqual(
      changes.map((c) => `${c.previous}->${c.mode}`),
      ['redis->local-fallback', 'local-fallback->redis'],
    );
    assert.ok(changes[0]?.error instanceof Error);
    await limiter.close();
  });

  it('probes on its own timer while falling back', async () => {
    const fake = fakePrimary();
    const limiter = createDegradingRateLimiter({ primary: fake.primary, fallback: createMemoryRateLimiter(), timeoutMs: 20, probeIntervalMs: 10 });
    fake.set('fail');
    await limiter.consume(request);
    assert.equal(limiter.mode, 'local-fallback');
    fake.set('ok');
    const mode = () => limiter.mode; // read afresh: the timer changes it behind the compiler's back
    const deadline = Date.now() + 2000;
    while (mode() !== 'redis' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(mode(), 'redis');
    await limiter.close();
  });

  it('scales local buckets by the configured share of the fleet', async () => {
    const fake = fakePrimary();
    const limiter = createDegradingRateLimiter({ primary: fake.primary, fallback: createMemoryRateLimiter(), fallbackShare: 0.25, probeIntervalMs: 60_000 });
    fake.set('fail');
    const wide = { ...request, rate: 100, burst: 8 };
    const results: boolean[] = [];
    for (let i = 0; i < 4; i++) results.push((await limiter.consume(wide)).allowed);
    assert.deepEqual(results, [true, true, false, false]);
    await limiter.close();
  });

  it('does not mistake an invalid request for an outage', async () => {
    const fake = fakePrimary();
    const limiter = createDegradingRateLimiter({ primary: fake.primary, fallback: createMemoryRateLimiter(), probeIntervalMs: 60_000 });
    await assert.rejects(limiter.consume({ ...request, cost: 5 }), (e) => isAppError(e) && e.code === 'validation_failed');
    assert.equal(limiter.mode, 'redis');
    await limiter.close();
  });
});
