/**
 * The limits domain as the platform runs it: rate limiter (Redis shared by
 * all replicas, degrading to local limits), the gateway gate, prediction
 * quotas and usage counters in Postgres (buffered), the storage quota, the
 * fair scheduler of compute, and the usage reports — with one hooks relay
 * that metrics and counters listen on.
 */
import type { Redis } from 'ioredis';
import type { Db } from '../db/db.js';
import { createRateLimiter } from './create-rate-limiter.js';
import type { LimitsLogger } from './degrading-rate-limiter.js';
import { createFairScheduler, type FairScheduler } from './fair-scheduler.js';
import { createHooksRelay, type HooksRelay } from './hooks.js';
import { createLimitsRedisClient } from './limits-redis-client.js';
import { type BufferedQuotaStore, createPostgresQuotaStore } from './postgres-quota-store.js';
import { createQuotaGuard } from './quota-guard.js';
import { createRateLimitGate, type RateLimitGate } from './rate-limit-gate.js';
import type { Clock, RateLimiter } from './rate-limiter.js';
import { createStorageQuota, type StorageQuota } from './storage-quota.js';
import type { TenantLimits } from './tenant-limits.js';
import { createTenantQuotas, type LimitedTenant, type TenantQuotas } from './tenant-quotas.js';
import { usageCountingHooks } from './usage-counters.js';
import { createUsageReports, type UsageReports } from './usage-report.js';

/** What `createLimits` needs from the platform. */
export interface LimitsOptions {
  db: Db;
  /** Shared rate limits across replicas when set; in-process limits otherwise. */
  redisUrl: string | undefined;
  /** Prefix of every Redis key. */
  keyPrefix: string;
  /** Executor slots of the fair scheduler. */
  computeSlots: number;
  /** How often usage counters reach Postgres, ms. */
  usageFlushMs: number;
  /** Redis decisions slower than this fall back to local limits, ms. Default 100. */
  redisTimeoutMs?: number;
  /** How often to probe Redis while falling back, ms. Default 1,000. */
  redisProbeMs?: number;
  logger?: LimitsLogger;
  /** A tenant's limits in force (storage checks, which happen off the request's principal). */
  limitsOf(tenantId: string): Promise<TenantLimits>;
  /** Every tenant with its limits in force (operator usage view). */
  listTenants(): Promise<LimitedTenant[]>;
  /** Wall clock for quota windows; injectable so tests can cross a UTC midnight. */
  clock?: Clock;
}

/** The running limits domain. */
export interface Limits {
  hooks: HooksRelay;
  limiter: RateLimiter;
  gate: RateLimitGate;
  usageStore: BufferedQuotaStore;
  quotas: TenantQuotas;
  storage: StorageQuota;
  compute: FairScheduler;
  usage: UsageReports;
  /** Forgets a purged tenant's buckets, buffered counters and scheduler state; counts for the receipt. */
  purgeTenant(tenantId: string): Promise<Record<string, number>>;
  /** Drops local state of a tenant purged on another replica. */
  forgetLocally(tenantId: string): Promise<void>;
  close(): Promise<void>;
}

/** Waits until the client is connected, or gives up after `ms` (the limiter then starts on local limits). */
async function connected(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.on('ready', done);
  });
}

/** Builds the limits domain. */
export async function createLimits(options: LimitsOptions): Promise<Limits> {
  const { db, logger } = options;
  const clock = options.clock ?? Date.now;
  const hooks = createHooksRelay();
  const redis = options.redisUrl
    ? createLimitsRedisClient(options.redisUrl, options.redisTimeoutMs !== undefined ? { commandTimeoutMs: options.redisTimeoutMs } : {})
    : undefined;
  if (redis) await connected(redis, 2000);
  const limiter = redis
    ? createRateLimiter({
        kind: 'redis-with-fallback',
        redis,
        keyPrefix: options.keyPrefix,
        ...(options.redisTimeoutMs !== undefined ? { timeoutMs: options.redisTimeoutMs } : {}),
        ...(options.redisProbeMs !== undefined ? { probeIntervalMs: options.redisProbeMs } : {}),
        ...(logger ? { logger } : {}),
        onModeChange: (change) => hooks.onModeChange?.(change),
      })
    : createRateLimiter({ kind: 'memory' });
  const usageStore = createPostgresQuotaStore({ db, flushIntervalMs: options.usageFlushMs, ...(logger ? { logger } : {}) });
  hooks.add(usageCountingHooks(usageStore, clock));
  const gate = createRateLimitGate({ limiter, hooks });
  const guard = createQuotaGuard({ store: usageStore, clock, hooks });
  const storage = createStorageQuota({ limitsOf: options.limitsOf, hooks });
  const compute = createFairScheduler({ slots: options.computeSlots, hooks });
  const usage = createUsageReports({
    store: usageStore,
    guard,
    storage,
    compute,
    limiterMode: () => limiter.mode,
    listTenants: options.listTenants,
    clock,
  });

  return {
    hooks,
    limiter,
    gate,
    usageStore,
    quotas: createTenantQuotas(guard),
    storage,
    compute,
    usage,
    async purgeTenant(tenantId) {
      compute.forgetTenant(tenantId);
      return {
        // A purge must reach the shared store: if Redis is down the purge fails and can be retried.
        rate_limit_buckets: await limiter.forgetTenant(tenantId),
        usage_counters_buffered: await usageStore.forgetTenant(tenantId),
      };
    },
    async forgetLocally(tenantId) {
      await usageStore.forgetTenant(tenantId);
      compute.forgetTenant(tenantId);
    },
    async close() {
      await usageStore.close();
      await limiter.close();
      if (redis) redis.disconnect();
    },
  };
}
