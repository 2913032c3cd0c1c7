/** Types and counters of the model cache's observability: events, per-tenant stats, snapshot. */

/** Identifies one loaded model: always tenant-scoped, always an exact version. */
export interface ModelKey {
  readonly tenantId: string;
  readonly model: string;
  readonly version: string;
}

/** Why an entry left the cache. */
export type EvictionReason = 'budget' | 'tenant-cap' | 'invalidated';

/** What the cache reports to its `onEvent` hook (the HTTP layer feeds prom-client with these). */
export type ModelCacheEvent =
  | { type: 'hit'; key: ModelKey }
  | { type: 'miss'; key: ModelKey }
  | { type: 'load'; key: ModelKey; durationMs: number; sizeBytes: number; admitted: boolean }
  | { type: 'load-failed'; key: ModelKey; durationMs: number; error: unknown }
  | { type: 'evict'; key: ModelKey; sizeBytes: number; reason: EvictionReason };

/** Counters of one tenant (or of the whole cache). */
export interface CacheCounters {
  hits: number;
  misses: number;
  loads: number;
  loadFailures: number;
  evictions: number;
  /** Loads that served their requests but were not kept (over budget, cap, or not worth it). */
  notAdmitted: number;
  loadMsTotal: number;
  loadMsMax: number;
}

/** Counters plus what the tenant holds right now. */
export interface TenantCacheStats extends CacheCounters {
  residentBytes: number;
  residentEntries: number;
}

/** `stats()` result: totals and one row per tenant seen. */
export interface ModelCacheStats {
  totals: TenantCacheStats;
  tenants: Record<string, TenantCacheStats>;
}

/** One resident model in `snapshot()`. */
export interface SnapshotEntry {
  tenantId: string;
  model: string;
  version: string;
  sizeBytes: number;
  hits: number;
  pins: number;
  loadMs: number;
  loadedAt: string;
  lastUsedAt: string;
}

/** `snapshot()` result, for `GET /v1/admin/serving`. */
export interface ModelCacheSnapshot {
  policy: string;
  budgetBytes: number;
  residentBytes: number;
  /** Bytes held only by running requests: loads not admitted, entries invalidated while in use. */
  transientBytes: number;
  loadsInFlight: number;
  entries: SnapshotEntry[];
}

/** Fresh zeroed counters. */
export function emptyCounters(): CacheCounters {
  return { hits: 0, misses: 0, loads: 0, loadFailures: 0, evictions: 0, notAdmitted: 0, loadMsTotal: 0, loadMsMax: 0 };
}
