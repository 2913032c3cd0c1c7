/**
 * A rate limiter held in this process's memory: the embedded deployment's
 * limiter, and the fallback of the Redis one while Redis is unreachable.
 */
import { gcraDecide } from './gcra.js';
import { checkCost, type Clock, type RateLimitDecision, type RateLimiter, type RateLimitRequest, toDecision } from './rate-limiter.js';
import type { RouteClass } from './tenant-limits.js';

/** Options of `createMemoryRateLimiter`. */
export interface MemoryRateLimiterOptions {
  clock?: Clock | undefined;
  /** Decisions between sweeps of full (forgettable) buckets; bounds memory to active tenants. */
  sweepEvery?: number;
}

/** Builds an in-process GCRA limiter with an injectable clock. */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): RateLimiter {
  const clock = options.clock ?? Date.now;
  const sweepEvery = options.sweepEvery ?? 10_000;
  // tenant -> route class -> TAT; a bucket whose TAT has passed is full, exactly like a missing one. Two maps
  // rather than one keyed by a composed string: no key is built and hashed on each decision.
  const tats = new Map<string, Map<RouteClass, number>>();
  let sinceSweep = 0;

  // A tenant whose buckets are all full is forgotten; one still draining keeps its map whole. Deleting single
  // buckets shrank the map's table, a new table per tenant per sweep that lived until the next one.
  function sweep(now: number): void {
    for (const [tenantId, buckets] of tats) {
      let draining = false;
      for (const tat of buckets.values()) {
        if (tat > now) {
          draining = true;
          break;
        }
      }
      if (!draining) tats.delete(tenantId);
    }
  }

  function consumeNow(request: RateLimitRequest): RateLimitDecision {
    const cost = checkCost(request);
    const now = clock();
    let buckets = tats.get(request.tenantId);
    const result = gcraDecide({ tat: buckets?.get(request.bucket), now, rate: request.rate, burst: request.burst, cost });
    if (result.allowed && cost > 0) {
      if (buckets === undefined) {
        buckets = new Map();
        tats.set(request.tenantId, buckets);
      }
      buckets.set(request.bucket, result.tat);
    }
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
      const count = tats.get(tenantId)?.size ?? 0;
      tats.delete(tenantId);
      return count;
    },
    async close() {
      tats.clear();
    },
  };
}
