/**
 * Daily and monthly prediction quotas: charge predicted rows to both UTC
 * windows, or refuse with 429 `quota_exceeded` and the time the window resets.
 */
import { errors } from '../errors.js';
import { emit, type LimitsHooks } from './hooks.js';
import { type QuotaPeriod, type QuotaWindow, quotaWindow, secondsUntilReset } from './quota-windows.js';
import type { QuotaStore } from './quota-store.js';
import type { Clock } from './rate-limiter.js';
import type { RouteClass, TenantLimits } from './tenant-limits.js';

/** A tenant's standing in one quota window, as `/v1/usage` shows it. */
export interface QuotaUsage {
  period: QuotaPeriod;
  window: string;
  used: number;
  limit: number;
  remaining: number;
  /** ISO-8601 UTC. */
  resetAt: string;
}

/** Charges and reports prediction quotas. */
export interface QuotaGuard {
  /** Charges `rows` to the day and the month, all or nothing; throws `quota_exceeded` if either is spent. */
  consumePredictions(tenantId: string, limits: TenantLimits, rows: number, routeClass?: RouteClass): Promise<QuotaUsage[]>;
  /**
   * `consumePredictions` without waiting, when the store can decide from memory
   * and the charge fits; undefined (nothing charged) otherwise — then call
   * `consumePredictions`, which also produces the refusal.
   */
  consumePredictionsNow(tenantId: string, limits: TenantLimits, rows: number): QuotaUsage[] | undefined;
  /** Gives back rows that `consumePredictions` charged when the work was not done (shed, cancelled, failed). */
  refundPredictions(tenantId: string, charged: readonly QuotaUsage[], rows: number): Promise<void>;
  /** The current day and month usage, charging nothing. */
  predictionUsage(tenantId: string, limits: TenantLimits): Promise<QuotaUsage[]>;
}

const PERIODS: ReadonlyArray<{ period: QuotaPeriod; limit: (l: TenantLimits) => number; label: string }> = [
  { period: 'day', limit: (l) => l.dailyPredictions, label: 'daily' },
  { period: 'month', limit: (l) => l.monthlyPredictions, label: 'monthly' },
];

function usageOf(window: QuotaWindow, used: number, limit: number): QuotaUsage {
  return { period: window.period, window: window.key, used, limit, remaining: Math.max(0, limit - used), resetAt: window.resetAt };
}

/** Builds the quota guard over a `QuotaStore`; the clock decides which UTC windows are current. */
export function createQuotaGuard(options: { store: QuotaStore; clock?: Clock; hooks?: LimitsHooks }): QuotaGuard {
  const { store, hooks } = options;
  const clock = options.clock ?? Date.now;

  return {
    consumePredictionsNow(tenantId, limits, rows) {
      if (!Number.isInteger(rows) || rows < 0) return undefined;
      const now = clock();
      const day = quotaWindow('day', now);
      const month = quotaWindow('month', now);
      const dayLimit = limits.dailyPredictions;
      const monthLimit = limits.monthlyPredictions;
      if (rows > dayLimit || rows > monthLimit) return undefined;
      const dayResult = store.addNow(tenantId, 'predictions', day.key, rows, dayLimit);
      if (!dayResult?.applied) return undefined;
      const monthResult = store.addNow(tenantId, 'predictions', month.key, rows, monthLimit);
      if (!monthResult?.applied) {
        store.addNow(tenantId, 'predictions', day.key, -rows); // loaded a moment ago, so it applies at once
        return undefined;
      }
      return [usageOf(day, dayResult.used, dayLimit), usageOf(month, monthResult.used, monthLimit)];
    },
    async consumePredictions(tenantId, limits, rows, routeClass = 'predict') {
      if (!Number.isInteger(rows) || rows < 0) throw errors.validation(`rows must be a non-negative integer, got ${rows}`);
      const now = clock();
      const charged: Array<{ window: QuotaWindow }> = [];
      const usage: QuotaUsage[] = [];
      for (const { period, limit: limitOf, label } of PERIODS) {
        const window = quotaWindow(period, now);
        const limit = limitOf(limits);
        const result = rows <= limit ? await store.add(tenantId, 'predictions', window.key, rows, limit) : { applied: false, used: -1 };
        if (!result.applied) {
          // Give back what the shorter window already took, so a refusal charges nothing.
          for (const done of charged) await store.add(tenantId, 'predictions', done.window.key, -rows);
          const used = result.used >= 0 ? result.used : await store.get(tenantId, 'predictions', window.key);
          emit(hooks, 'onDecision', { tenantId, routeClass, allowed: false, reason: 'quota', cost: rows });
          const { resetAt } = window;
          throw errors.quotaExceeded(
            `${label} prediction quota of ${limit} rows would be exceeded (used ${used}, requested ${rows}); it resets at ${resetAt}`,
            secondsUntilReset(window, now),
            { resetAt, period, limit, used, requested: rows },
          );
        }
        charged.push({ window });
        usage.push(usageOf(window, result.used, limit));
      }
      return usage;
    },
    async refundPredictions(tenantId, charged, rows) {
      // Refund into the windows that were charged, even if a new day has begun since.
      for (const usage of charged) await store.add(tenantId, 'predictions', usage.window, -rows);
    },
    async predictionUsage(tenantId, limits) {
      const now = clock();
      return Promise.all(
        PERIODS.map(async ({ period, limit }) => {
          const window = quotaWindow(period, now);
          return usageOf(window, await store.get(tenantId, 'predictions', window.key), limit(limits));
        }),
      );
    },
  };
}
