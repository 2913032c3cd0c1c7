import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DecisionEvent } from '../../../src/limits/hooks.js';
import { createMemoryRateLimiter } from '../../../src/limits/memory-rate-limiter.js';
import { createRateLimitGate, rateLimitedError } from '../../../src/limits/rate-limit-gate.js';
import { resolveTenantLimits } from '../../../src/limits/tenant-limits.js';

describe('rate limit gate', () => {
  it('charges the route class bucket, reports decisions and renders headers', async () => {
    const now = 1_700_000_000_000;
    const events: DecisionEvent[] = [];
    const gate = createRateLimitGate({
      limiter: createMemoryRateLimiter({ clock: () => now }),
      hooks: { onDecision: (e) => events.push(e) },
    });
    const limits = resolveTenantLimits({ requestsPerSecond: 10, burst: 20, routes: { train: { requestsPerSecond: 1, burst: 1 } } });

    const first = await gate.check({ tenantId: 't1', limits, routeClass: 'train' });
    assert.equal(first.allowed, true);
    assert.deepEqual(first.headers, { 'ratelimit-policy': '"train";q=1;w=1', ratelimit: '"train";r=0;t=1' });

    const second = await gate.check({ tenantId: 't1', limits, routeClass: 'train' });
    assert.equal(second.allowed, false);
    assert.equal(second.headers['retry-after'], '1');
    const error = rateLimitedError(second);
    assert.equal(error.status, 429);
    assert.equal(error.retryAfterSeconds, 1);

    // Other classes share the tenant's default bucket, untouched by training calls.
    const predict = await gate.check({ tenantId: 't1', limits, routeClass: 'predict', cost: 5 });
    assert.equal(predict.headers.ratelimit, '"default";r=15;t=1');
    assert.deepEqual(
      events.map((e) => [e.routeClass, e.allowed, e.reason]),
      [
        ['train', true, undefined],
        ['train', false, 'rate'],
        ['predict', true, undefined],
      ],
    );
  });
});
