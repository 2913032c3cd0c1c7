/**
 * The limits domain's public surface: rate limits, quotas, fair scheduling of
 * compute, and the hooks metrics attach to. See README.md for the wiring.
 */
export { createRateLimiter, type RateLimiterConfig } from './create-rate-limiter.js';
export {
  createDegradingRateLimiter,
  type DegradingRateLimiter,
  type DegradingRateLimiterOptions,
  type LimiterModeChange,
  type LimitsLogger,
} from './degrading-rate-limiter.js';
export { createFairQueue, type FairQueue, type FairQueueEntry, type FairQueueOptions } from './fair-queue.js';
export {
  createFairScheduler,
  type FairScheduler,
  type FairSchedulerOptions,
  type SlicedTaskOptions,
  type TaskOptions,
  type TenantSchedulerStats,
} from './fair-scheduler.js';
export type { DecisionEvent, Lane, LimitsHooks, QueuedEvent, ShedEvent, ThrottleReason } from './hooks.js';
export { createLimitsRedisClient, type LimitsRedisClientOptions } from './limits-redis-client.js';
export { createMemoryRateLimiter, type MemoryRateLimiterOptions } from './memory-rate-limiter.js';
export { createQuotaGuard, type QuotaGuard, type QuotaUsage } from './quota-guard.js';
export { createMemoryQuotaStore, type QuotaAddResult, type QuotaCounter, type QuotaStore } from './quota-store.js';
export { type QuotaPeriod, type QuotaWindow, quotaWindow, secondsUntilReset } from './quota-windows.js';
export { createRateLimitGate, type GateRequest, type GateResult, type RateLimitGate, rateLimitedError } from './rate-limit-gate.js';
export {
  type Clock,
  DEFAULT_KEY_PREFIX,
  type LimiterMode,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimitRequest,
  rateLimitKey,
} from './rate-limiter.js';
export {
  formatRateLimit,
  formatRateLimitPolicy,
  formatRetryAfter,
  type HeaderPolicy,
  rateLimitHeaders,
} from './ratelimit-headers.js';
export { createRedisRateLimiter, type ProbeableRateLimiter, type RedisRateLimiterOptions } from './redis-rate-limiter.js';
export {
  DEFAULT_TENANT_LIMITS,
  ROUTE_CLASSES,
  type RatePolicy,
  ratePolicyFor,
  resolveTenantLimits,
  type RouteClass,
  type RouteRateLimit,
  type TenantLimits,
  type TenantLimitsInput,
} from './tenant-limits.js';
