/**
 * The prediction quota as the rest of the platform calls it: charge rows to
 * the caller (whose limits came with its credential), give them back when the
 * work was not done, and report the standing.
 */
import type { QuotaGuard, QuotaUsage } from './quota-guard.js';
import type { TenantLimits } from './tenant-limits.js';

/** Whoever is charged: a tenant id and the limits resolved from its credential (a tenant principal fits). */
export interface LimitedTenant {
  tenantId: string;
  limits: TenantLimits;
}

/** What `consumePredictions` charged; hand it back to `refundPredictions` if the work is not done. */
export interface PredictionCharge {
  tenantId: string;
  rows: number;
  /** The day and month windows charged, with the usage after the charge. */
  windows: QuotaUsage[];
}

/** Prediction quotas for callers holding a principal. */
export interface TenantQuotas {
  /** Charges `rows` predicted rows to today and this month; throws 429 `quota_exceeded` (with `resetAt`) if either is spent. */
  consumePredictions(tenant: LimitedTenant, rows: number): Promise<PredictionCharge>;
  /** The charge made at once from memory, or undefined (nothing charged): then call `consumePredictions`. */
  consumePredictionsNow(tenant: LimitedTenant, rows: number): PredictionCharge | undefined;
  /** Gives a charge back (shed, cancelled or failed work); safe to call once per charge. */
  refundPredictions(charge: PredictionCharge): Promise<void>;
  /** The day and month standing, charging nothing. */
  predictionUsage(tenant: LimitedTenant): Promise<QuotaUsage[]>;
}

/** Wraps a `QuotaGuard` for principal-holding callers. */
export function createTenantQuotas(guard: QuotaGuard): TenantQuotas {
  return {
    async consumePredictions({ tenantId, limits }, rows) {
      return { tenantId, rows, windows: await guard.consumePredictions(tenantId, limits, rows) };
    },
    consumePredictionsNow({ tenantId, limits }, rows) {
      const windows = guard.consumePredictionsNow(tenantId, limits, rows);
      return windows === undefined ? undefined : { tenantId, rows, windows };
    },
    async refundPredictions(charge) {
      if (charge.rows === 0) return;
      await guard.refundPredictions(charge.tenantId, charge.windows, charge.rows);
    },
    predictionUsage({ tenantId, limits }) {
      return guard.predictionUsage(tenantId, limits);
    },
  };
}
