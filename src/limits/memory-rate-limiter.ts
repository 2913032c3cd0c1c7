/**
 * A rate limiter held in this process's memory: the embedded deployment's
 * limiter, and the fallback of the Redis one while Redis is unreachable.
 */
import { gcraDecide } from './gcra.js';
import { checkCost, type Clock, DEFAULT_KEY_PREFIX, type RateLimitDecision, type RateLimiter, type RateLimitRequest, rateLimitKey, toDecision } from './rate-limiter.js';
import { ROUTE_CLASSES } from './tenant-limits.js';

/** Options of `createMemoryRateLimiter`. */
export interface MemoryRateLimiterOptions {
  clock?: Clock | undefined;
  keyPrefix?: string | undefined;
  /** Decisions between sweeps of full (forgettable) buckets; bounds memory to active tenants. */
  sweepEvery?: number;
}

/** Builds an in-process GCRA limiter with an injectable clock. */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): RateLimiter {
  const clock = options.clock ?? Date.now;
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const sweepEvery = options.sweepEvery ?? 10_000;
  // key -> TAT; a bucket whose TAT has passed is full, exactly like a missing one.
  const tats = new Map<string, number>();
  let sinceSweep = 0;

  function sweep(now: number): void {
    for (const [key, tat] of tats) if (tat <= now) tats.delete(key);
  }

  function consumeNow(request: RateLimitRequest): RateLimitDecision {
    const cost = checkCost(request);
    const now = clock();
    const key = rateLimitKey(prefix, request.tenantId, request.bucket);
    const result = gcraDecide({ tat: tats.get(key), now, rate: request.rate, burst: request.burst, cost });
    if (result.allowed && cost > 0) tats.set(key, result.tat);
    if (++sinceSweep >= sweepEvery) {
      sinceSweep = 0;
      sweep(now);
    }
    return toDecision(request.burst, result);
  }

  return {
    mode: 'memory',
    consumeNow,
    async consume(request) {
      return consumeNow(request);
    },
    async forgetTenant(tenantId) {
      let count = 0;
      for (const bucket of ROUTE_CLASSES) if (tats.delete(rateLimitKey(prefix, tenantId, bucket))) count++;
      return count;
    },
    async close() {
      tats.clear();
    },
  };
}
