/**
 * Keeps rate limiting alive when Redis is not: decisions go to the shared
 * Redis limiter while it answers within a short timeout, to this process's
 * own memory limiter while it does not, and back once a periodic probe
 * succeeds. Each transition is logged once and reported to a callback.
 */
import { isAppError } from '../errors.js';
import type { LimiterMode, RateLimitDecision, RateLimiter, RateLimitRequest } from './rate-limiter.js';
import type { ProbeableRateLimiter } from './redis-rate-limiter.js';

/** The two log levels used, shaped like pino so a pino logger fits as is. */
export interface LimitsLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
}

/** Reported on every switch between the shared store and the local fallback. */
export interface LimiterModeChange {
  mode: LimiterMode;
  previous: LimiterMode;
  /** Why the shared store was abandoned (on a switch to the fallback). */
  error?: unknown;
}

/** Options of `createDegradingRateLimiter`. */
export interface DegradingRateLimiterOptions {
  primary: ProbeableRateLimiter;
  fallback: RateLimiter;
  /** A decision slower than this counts as a failure of the shared store. Default 100 ms. */
  timeoutMs?: number;
  /** How often to probe the shared store while falling back. Default 1,000 ms. */
  probeIntervalMs?: number;
  /**
   * Share of each bucket this replica enforces alone while falling back,
   * e.g. 1/replicas; default 1 (each replica enforces the full limit, so N
   * replicas admit up to N times the limit during an outage).
   */
  fallbackShare?: number;
  logger?: LimitsLogger;
  onModeChange?: (change: LimiterModeChange) => void;
}

/** A limiter whose mode can be watched; `probeNow` lets tests and health checks skip the timer. */
export interface DegradingRateLimiter extends RateLimiter {
  probeNow(): Promise<boolean>;
}

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`rate limit store did not answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Builds the Redis-first, memory-fallback limiter. */
export function createDegradingRateLimiter(options: DegradingRateLimiterOptions): DegradingRateLimiter {
  const { primary, fallback, logger, onModeChange } = options;
  const timeoutMs = options.timeoutMs ?? 100;
  const probeIntervalMs = options.probeIntervalMs ?? 1000;
  const share = options.fallbackShare ?? 1;
  let mode: LimiterMode = 'redis';
  let probeTimer: NodeJS.Timeout | undefined;
  let probing: Promise<boolean> | undefined;
  let closed = false;

  function switchTo(next: LimiterMode, error?: unknown): void {
    if (next === mode) return;
    const previous = mode;
    mode = next;
    if (next === 'local-fallback') {
      logger?.warn({ err: error, timeoutMs }, 'rate limit store unavailable; enforcing limits locally');
      probeTimer = setInterval(() => void probeNow(), probeIntervalMs);
      probeTimer.unref();
    } else {
      logger?.info({}, 'rate limit store is back; enforcing shared limits again');
      clearInterval(probeTimer);
      probeTimer = undefined;
    }
    try {
      onModeChange?.(error === undefined ? { mode: next, previous } : { mode: next, previous, error });
    } catch (callbackError) {
      logger?.warn({ err: callbackError }, 'rate limiter mode callback threw');
    }
  }

  function probeNow(): Promise<boolean> {
    if (mode === 'redis' || closed) return Promise.resolve(mode === 'redis');
    probing ??= withTimeout(primary.ping(), timeoutMs * 5)
      .then(
        () => {
          if (!closed) switchTo('redis');
          return true;
        },
        () => false,
      )
      .finally(() => {
        probing = undefined;
      });
    return probing;
  }

  /** The request as the local fallback charges it: this replica's share of the shared limit. */
  function localShare(request: RateLimitRequest): RateLimitRequest {
    if (share === 1) return request;
    const cost = request.cost ?? 1;
    return { ...request, rate: request.rate * share, burst: Math.max(cost, request.burst * share) };
  }

  function consumeLocally(request: RateLimitRequest): Promise<RateLimitDecision> {
    return fallback.consume(localShare(request));
  }

  return {
    get mode() {
      return mode;
    },
    consumeNow(request) {
      return mode === 'redis' ? undefined : fallback.consumeNow?.(localShare(request));
    },
    async consume(request) {
      if (mode === 'redis') {
        try {
          return await withTimeout(primary.consume(request), timeoutMs);
        } catch (error) {
          if (isAppError(error)) throw error; // the request itself is invalid; no store would take it
          switchTo('local-fallback', error);
        }
      }
      return consumeLocally(request);
    },
    async forgetTenant(tenantId) {
      const local = await fallback.forgetTenant(tenantId);
      // A purge must reach the shared store; let its failure surface to the caller.
      return local + (await withTimeout(primary.forgetTenant(tenantId), timeoutMs * 10));
    },
    probeNow,
    async close() {
      closed = true;
      clearInterval(probeTimer);
      await Promise.all([primary.close(), fallback.close()]);
    },
  };
}
