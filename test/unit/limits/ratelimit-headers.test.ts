import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toDecision } from '../../../src/limits/rate-limiter.js';
import {
  formatRateLimit,
  formatRateLimitPolicy,
  formatRetryAfter,
  rateLimitHeaders,
} from '../../../src/limits/ratelimit-headers.js';

describe('RateLimit header fields', () => {
  it('advertises the policy as quota per window', () => {
    assert.equal(formatRateLimitPolicy({ name: 'default', rate: 100, burst: 100 }), '"default";q=100;w=1');
    assert.equal(formatRateLimitPolicy({ name: 'predict', rate: 50, burst: 100 }), '"predict";q=100;w=2');
    // A burst smaller than one second of rate still advertises the long-run rate.
    assert.equal(formatRateLimitPolicy({ name: 'default', rate: 100, burst: 5 }), '"default";q=100;w=1');
    assert.equal(formatRateLimitPolicy({ name: 'train', rate: 0.5, burst: 1 }), '"train";q=1;w=2');
  });

  it('renders remaining and reset as integers from a decision', () => {
    const d = toDecision(100, { allowed: true, remaining: 42, resetMs: 580, retryAfterMs: 0 });
    assert.equal(formatRateLimit('default', d), '"default";r=42;t=1');
  });

  it('escapes the policy name as a structured-field string', () => {
    assert.equal(formatRateLimitPolicy({ name: 'a"b\\c', rate: 1, burst: 1 }), '"a\\"b\\\\c";q=1;w=1');
  });

  it('rounds Retry-After up to whole seconds, never below 1', () => {
    assert.equal(formatRetryAfter(0), '1');
    assert.equal(formatRetryAfter(0.01), '1');
    assert.equal(formatRetryAfter(1), '1');
    assert.equal(formatRetryAfter(1.2), '2');
    assert.equal(formatRetryAfter(Number.NaN), '1');
  });

  it('adds Retry-After only to a refusal, taken from the decision', () => {
    const policy = { name: 'default', rate: 10, burst: 5 };
    const ok = rateLimitHeaders(policy, toDecision(5, { allowed: true, remaining: 3, resetMs: 200, retryAfterMs: 0 }));
    assert.equal(ok['retry-after'], undefined);
    assert.equal(ok['ratelimit-policy'], '"default";q=10;w=1');
    const refused = rateLimitHeaders(policy, toDecision(5, { allowed: false, remaining: 0, resetMs: 500, retryAfterMs: 1300 }));
    assert.equal(refused['retry-after'], '2');
    assert.equal(refused.ratelimit, '"default";r=0;t=1');
  });
});
