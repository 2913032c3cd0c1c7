/**
 * The `RateLimiter` contract shared by the in-memory, Redis and degrading
 * backends, the key every bucket lives under, and the helpers they share.
 */
import { errors } from '../errors.js';
import type { GcraResult } from './gcra.js';
import type { RouteClass } from './tenant-limits.js';

/** Milliseconds since the epoch; injectable so tests control time. */
export type Clock = () => number;

/** One request to charge against a tenant's bucket. */
export interface RateLimitRequest {
  tenantId: string;
  /** The bucket charged (see `ratePolicyFor`). */
  bucket: RouteClass;
  /** Units per second. */
  rate: number;
  /** Bucket capacity in units. */
  burst: number;
  /** Units this request costs; default 1. 0 reads the bucket without charging it. */
  cost?: number;
}

/** The answer to one request; whole seconds are what headers carry, milliseconds are exact. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Bucket capacity. */
  limit: number;
  /** Whole units left after this decision. */
  remaining: number;
  /** Seconds (rounded up) until the bucket is full again. */
  resetSeconds: number;
  /** Seconds (rounded up, at least 1) to wait before this request can succeed; 0 when allowed. */
  retryAfterSeconds: number;
  resetMs: number;
  retryAfterMs: number;
}

/** Which store is answering: the shared one, or this process's own while the shared one is down. */
export type LimiterMode = 'memory' | 'redis' | 'local-fallback';

/** Decides whether a tenant may make a request now. */
export interface RateLimiter {
  /** Charges `cost` units if the bucket holds them; never charges a denied request. */
  consume(request: RateLimitRequest): Promise<RateLimitDecision>;
  /** `consume` decided in this process, or undefined when the decision needs a shared store (then call `consume`). */
  consumeNow?(request: RateLimitRequest): RateLimitDecision | undefined;
  /** Drops every bucket of a tenant (tenant purge); returns how many existed. */
  forgetTenant(tenantId: string): Promise<number>;
  /** Which store answered the last decision. */
  readonly mode: LimiterMode;
  /** Stops timers and releases connections this limiter owns. */
  close(): Promise<void>;
}

/** Prefix of every limiter key unless configured otherwise. */
export const DEFAULT_KEY_PREFIX = 'tenantml:';

/**
 * The storage key of a tenant's bucket. It always carries the tenant id; the
 * id sits in a Redis Cluster hash tag so all of a tenant's buckets share a slot.
 */
export function rateLimitKey(prefix: string, tenantId: string, bucket: RouteClass): string {
  return `${prefix}rl:{${encodeURIComponent(tenantId)}}:${bucket}`;
}

/** Rejects costs that no bucket could ever hold, before any store is touched. */
export function checkCost(request: RateLimitRequest): number {
  const cost = request.cost ?? 1;
  if (!Number.isFinite(cost) || cost < 0) throw errors.validation(`rate limit cost must be a non-negative number, got ${cost}`);
  if (cost > request.burst) {
    throw errors.validation(`this request costs ${cost} units but the bucket holds at most ${request.burst}`, {
      cost,
      burst: request.burst,
    });
  }
  if (!(request.rate > 0) || !(request.burst > 0)) throw errors.validation('rate and burst must be positive');
  return cost;
}

/** Turns the exact GCRA outcome into the decision callers and headers use. */
export function toDecision(burst: number, result: Pick<GcraResult, 'allowed' | 'remaining' | 'resetMs' | 'retryAfterMs'>): RateLimitDecision {
  return {
    allowed: result.allowed,
    limit: burst,
    remaining: result.remaining,
    resetSeconds: Math.max(0, Math.ceil(result.resetMs / 1000 - 1e-9)),
    retryAfterSeconds: result.allowed ? 0 : Math.max(1, Math.ceil(result.retryAfterMs / 1000 - 1e-9)),
    resetMs: result.resetMs,
    retryAfterMs: result.retryAfterMs,
  };
}
