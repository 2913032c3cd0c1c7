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
  /** `check` decided in this process, or undefined when it needs the shared store (then call `check`). */
  checkNow(request: GateRequest): GateResult | undefined;
}

/** Builds the gate over any `RateLimiter` backend. */
export function createRateLimitGate(options: { limiter: RateLimiter; hooks?: LimitsHooks }): RateLimitGate {
  const { limiter, hooks } = options;
  function decided({ tenantId, routeClass, cost = 1 }: GateRequest, policy: RatePolicy, decision: RateLimitDecision): GateResult {
    emit(hooks, 'onDecision', decision.allowed ? { tenantId, routeClass, allowed: true, cost } : { tenantId, routeClass, allowed: false, reason: 'rate', cost });
    const headers = rateLimitHeaders({ name: policy.bucket, rate: policy.rate, burst: policy.burst }, decision);
    return { allowed: decision.allowed, decision, policy, headers };
  }
  const limiterRequest = ({ tenantId, cost = 1 }: GateRequest, policy: RatePolicy) => ({ tenantId, bucket: policy.bucket, rate: policy.rate, burst: policy.burst, cost });

  return {
    async check(request) {
      const policy = ratePolicyFor(request.limits, request.routeClass);
      return decided(request, policy, await limiter.consume(limiterRequest(request, policy)));
    },
    checkNow(request) {
      if (limiter.consumeNow === undefined) return undefined;
      const policy = ratePolicyFor(request.limits, request.routeClass);
      const decision = limiter.consumeNow(limiterRequest(request, policy));
      return decision === undefined ? undefined : decided(request, policy, decision);
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
