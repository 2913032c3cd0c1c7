/**
 * What `/v1/usage` (one tenant) and `/v1/admin/usage` (every tenant) show:
 * limits in force, quota standing with reset times, storage, today's
 * admitted / throttled / shed requests, and the tenant's compute state.
 */
import type { FairScheduler, TenantSchedulerStats } from './fair-scheduler.js';
import type { BufferedQuotaStore } from './postgres-quota-store.js';
import type { QuotaGuard, QuotaUsage } from './quota-guard.js';
import { quotaWindow } from './quota-windows.js';
import type { Clock, LimiterMode } from './rate-limiter.js';
import type { StorageQuota, StorageUsage } from './storage-quota.js';
import { ROUTE_CLASSES, ratePolicyFor, type TenantLimits } from './tenant-limits.js';
import type { LimitedTenant } from './tenant-quotas.js';
import { REQUEST_COUNTERS } from './usage-counters.js';

/** Today's request counters of one tenant. */
export interface RequestCounts {
  /** The UTC day counted, e.g. `day:2025-03-31`. */
  window: string;
  admitted: number;
  throttled: { rate: number; quota: number; concurrency: number };
  shed: number;
}

/** One rate-limit bucket and the route classes that share it. */
export interface BucketReport {
  bucket: string;
  requestsPerSecond: number;
  burst: number;
  routeClasses: string[];
}

/** One tenant's standing. */
export interface TenantUsageReport {
  tenantId: string;
  limits: TenantLimits;
  rateLimits: BucketReport[];
  predictions: { day: QuotaUsage; month: QuotaUsage };
  storage: StorageUsage;
  requests: RequestCounts;
  /** This replica's scheduler state for the tenant. */
  compute: Pick<TenantSchedulerStats, 'inFlight' | 'queued'> & { maxConcurrent: number };
}

/** Builds usage reports from the limits services. */
export interface UsageReports {
  tenant(tenant: LimitedTenant): Promise<TenantUsageReport>;
  allTenants(): Promise<{ generatedAt: string; limiterMode: LimiterMode; tenants: TenantUsageReport[] }>;
}

/** Groups route classes by the bucket they charge. */
export function bucketsOf(limits: TenantLimits): BucketReport[] {
  const buckets = new Map<string, BucketReport>();
  for (const routeClass of ROUTE_CLASSES) {
    const policy = ratePolicyFor(limits, routeClass);
    const report = buckets.get(policy.bucket) ?? { bucket: policy.bucket, requestsPerSecond: policy.rate, burst: policy.burst, routeClasses: [] };
    report.routeClasses.push(routeClass);
    buckets.set(policy.bucket, report);
  }
  return [...buckets.values()];
}

/** Builds the reports; `listTenants` yields every tenant with its limits in force (operator view). */
export function createUsageReports(deps: {
  store: BufferedQuotaStore;
  guard: QuotaGuard;
  storage: StorageQuota;
  compute: FairScheduler;
  limiterMode: () => LimiterMode;
  listTenants: () => Promise<LimitedTenant[]>;
  clock?: Clock;
}): UsageReports {
  const clock = deps.clock ?? Date.now;

  function assemble(tenant: LimitedTenant, quota: QuotaUsage[], storage: StorageUsage, counts: Map<string, number>, day: string): TenantUsageReport {
    const stats = deps.compute.stats(tenant.tenantId);
    const count = (counter: string) => counts.get(counter) ?? 0;
    return {
      tenantId: tenant.tenantId,
      limits: tenant.limits,
      rateLimits: bucketsOf(tenant.limits),
      predictions: { day: quota.find((q) => q.period === 'day')!, month: quota.find((q) => q.period === 'month')! },
      storage,
      requests: {
        window: day,
        admitted: count('requests'),
        throttled: { rate: count('throttled_rate'), quota: count('throttled_quota'), concurrency: count('throttled_concurrency') },
        shed: count('shed'),
      },
      compute: { inFlight: stats.inFlight, queued: stats.queued, maxConcurrent: tenant.limits.maxConcurrent },
    };
  }

  return {
    async tenant(tenant) {
      const day = quotaWindow('day', clock()).key;
      const quota = await deps.guard.predictionUsage(tenant.tenantId, tenant.limits);
      const storage = await deps.storage.usage(tenant.tenantId, tenant.limits);
      const counts = new Map<string, number>();
      for (const counter of REQUEST_COUNTERS) counts.set(counter, await deps.store.get(tenant.tenantId, counter, day));
      return assemble(tenant, quota, storage, counts, day);
    },
    async allTenants() {
      const now = clock();
      const day = quotaWindow('day', now);
      const month = quotaWindow('month', now);
      const rows = await deps.store.allCounters([day.key, month.key]);
      const byTenant = new Map<string, Map<string, number>>();
      for (const row of rows) {
        const counts = byTenant.get(row.tenantId) ?? new Map<string, number>();
        counts.set(`${row.counter} ${row.window}`, row.used);
        byTenant.set(row.tenantId, counts);
      }
      const tenants: TenantUsageReport[] = [];
      for (const tenant of await deps.listTenants()) {
        const stored = byTenant.get(tenant.tenantId) ?? new Map<string, number>();
        const used = (counter: string, window: string) => stored.get(`${counter} ${window}`) ?? 0;
        const quota: QuotaUsage[] = [
          { window: day, limit: tenant.limits.dailyPredictions },
          { window: month, limit: tenant.limits.monthlyPredictions },
        ].map(({ window, limit }) => {
          const u = used('predictions', window.key);
          return { period: window.period, window: window.key, used: u, limit, remaining: Math.max(0, limit - u), resetAt: new Date(window.resetsAt).toISOString() };
        });
        const counts = new Map(REQUEST_COUNTERS.map((c) => [c, used(c, day.key)] as const));
        tenants.push(assemble(tenant, quota, await deps.storage.usage(tenant.tenantId, tenant.limits), counts, day.key));
      }
      return { generatedAt: new Date(now).toISOString(), limiterMode: deps.limiterMode(), tenants };
    },
  };
}
