/**
 * The gateway's first line: resolve a route class to its bucket, charge it,
 * report the decision to the hooks and hand back the response headers.
 */
import { type AppError, errors } from '../errors.js';
import { emit, type LimitsHooks } from './hooks.js';
import type { RateLimitDecision, RateLimiter } from './rate-limiter.js';
import { rateLimitHeaders } from './ratelimit-headers.js';
import { type RatePolicy, type RouteClass, ratePolicyFor, type TenantLimits } from './tenant-limits.js';

/** One request arriving at the gateway. */
export interface GateRequest {
  /** From the credential, never from the request (invariant 1). */
  tenantId: string;
  limits: TenantLimits;
  routeClass: RouteClass;
  /** Units charged; default 1. */
  cost?: number;
}

/** The outcome, with the headers every tenant response carries. */
export interface GateResult {
  allowed: boolean;
  decision: RateLimitDecision;
  policy: RatePolicy;
  headers: Record<string, string>;
}

/** Checks requests against a tenant's rate limits. */
export interface RateLimitGate {
  check(request: GateRequest): Promise<GateResult>;
}

/** Builds the gate over any `RateLimiter` backend. */
export function createRateLimitGate(options: { limiter: RateLimiter; hooks?: LimitsHooks }): RateLimitGate {
  const { limiter, hooks } = options;
  return {
    async check({ tenantId, limits, routeClass, cost = 1 }) {
      const policy = ratePolicyFor(limits, routeClass);
      const decision = await limiter.consume({ tenantId, bucket: policy.bucket, rate: policy.rate, burst: policy.burst, cost });
      emit(hooks, 'onDecision', decision.allowed ? { tenantId, routeClass, allowed: true, cost } : { tenantId, routeClass, allowed: false, reason: 'rate', cost });
      const headers = rateLimitHeaders({ name: policy.bucket, rate: policy.rate, burst: policy.burst }, decision);
      return { allowed: decision.allowed, decision, policy, headers };
    },
  };
}

/** The 429 to throw for a refused gate result (after its headers have been set on the reply). */
export function rateLimitedError(result: GateResult): AppError {
  return errors.rateLimited(
    result.decision.retryAfterSeconds,
    `rate limit exceeded for '${result.policy.bucket}' requests: ${result.policy.rate}/s with bursts of ${result.policy.burst}`,
  );
}
