/**
 * Where quota counters live. The contract is shaped so that one SQL upsert
 * implements `add`, e.g. on a table
 * `quota_usage(tenant_id, counter, window_key, used, primary key (tenant_id, counter, window_key))`
 * (with the usual RLS policy on tenant_id):
 *
 *   insert into quota_usage as q (tenant_id, counter, window_key, used)
 *   select $1, $2, $3, $4 where $5::bigint is null or $4 <= $5
 *   on conflict (tenant_id, counter, window_key)
 *   do update set used = q.used + excluded.used
 *     where $5::bigint is null or q.used + excluded.used <= $5
 *   returning used
 *
 * A returned row means applied (its `used` is the new total); no row means
 * the limit would have been passed and nothing changed.
 */

/**
 * The counters kept per tenant and window: predicted rows (the quota), and
 * requests admitted, throttled by reason, and shed (what the operator sees).
 */
export type QuotaCounter = 'predictions' | 'requests' | 'throttled_rate' | 'throttled_quota' | 'throttled_concurrency' | 'shed';

/** The outcome of `QuotaStore.add`. */
export interface QuotaAddResult {
  /** False when adding would have passed `limit`; nothing was changed then. */
  applied: boolean;
  /** The counter's value after the call (unchanged when not applied, if the store knows it; else -1). */
  used: number;
}

/** Persistent per-tenant counters per window. Every key carries the tenant id. */
export interface QuotaStore {
  /** Atomically adds `amount` (may be negative, to give back) unless the total would exceed `limit`. */
  add(tenantId: string, counter: QuotaCounter, window: string, amount: number, limit?: number): Promise<QuotaAddResult>;
  /** `add` without waiting, when the store can decide from memory; undefined (and nothing changed) when it cannot. */
  addNow(tenantId: string, counter: QuotaCounter, window: string, amount: number, limit?: number): QuotaAddResult | undefined;
  /** The counter's value, 0 if never written. */
  get(tenantId: string, counter: QuotaCounter, window: string): Promise<number>;
  /** Deletes all of a tenant's counters (tenant purge); returns how many there were. */
  forgetTenant(tenantId: string): Promise<number>;
}

/** An in-process `QuotaStore` for the tests and single-process tools; counters die with the process. */
export function createMemoryQuotaStore(): QuotaStore {
  // tenantId -> "counter window" -> used
  const byTenant = new Map<string, Map<string, number>>();
  const slot = (counter: QuotaCounter, window: string) => `${counter} ${window}`;

  function addNow(tenantId: string, counter: QuotaCounter, window: string, amount: number, limit?: number): QuotaAddResult {
    let counters = byTenant.get(tenantId);
    const current = counters?.get(slot(counter, window)) ?? 0;
    const next = current + amount;
    if (limit !== undefined && amount > 0 && next > limit) return { applied: false, used: current };
    if (!counters) {
      counters = new Map();
      byTenant.set(tenantId, counters);
    }
    counters.set(slot(counter, window), next);
    return { applied: true, used: next };
  }

  return {
    addNow,
    async add(tenantId, counter, window, amount, limit) {
      return addNow(tenantId, counter, window, amount, limit);
    },
    async get(tenantId, counter, window) {
      return byTenant.get(tenantId)?.get(slot(counter, window)) ?? 0;
    },
    async forgetTenant(tenantId) {
      const count = byTenant.get(tenantId)?.size ?? 0;
      byTenant.delete(tenantId);
      return count;
    },
  };
}
