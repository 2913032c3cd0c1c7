/**
 * The `storageBytes` quota: a gauge, not a window. What a tenant stores is
 * summed from the stores that hold its bytes (datasets, documents), each of
 * which registers a source; a write that would pass the limit is refused
 * before it becomes visible.
 *
 * Concurrency: two uploads of one tenant checked at the same moment can both
 * pass, so the limit can be overrun by the uploads in flight (each bounded by
 * the upload size limit). Counting from the stores themselves means deletes
 * free space at once and the figure can never drift from the data.
 */
import { errors } from '../errors.js';
import { emit, type LimitsHooks } from './hooks.js';
import type { TenantLimits } from './tenant-limits.js';

/** A store that holds tenant bytes (e.g. `datasets`, `documents`). */
export interface StorageSource {
  readonly name: string;
  /** Bytes the tenant stores there now. */
  bytesUsed(tenantId: string): Promise<number>;
}

/** A tenant's storage standing, as `/v1/usage` shows it. */
export interface StorageUsage {
  used: number;
  limit: number;
  remaining: number;
  bySource: Record<string, number>;
}

/** Checks and reports the storage quota. */
export interface StorageQuota {
  registerSource(source: StorageSource): void;
  /** Throws 429 `quota_exceeded` if storing `addBytes` more would pass the tenant's `storageBytes`. */
  check(tenantId: string, addBytes: number): Promise<void>;
  usage(tenantId: string, limits?: TenantLimits): Promise<StorageUsage>;
}

/**
 * A refused write succeeds only after data is deleted or the limit raised, so
 * there is no natural retry time; 429 must still carry one, and an hour keeps
 * well-behaved clients from hammering.
 */
export const STORAGE_RETRY_AFTER_SECONDS = 3600;

/** Builds the storage quota; `limitsOf` reads a tenant's limits (writes are rare, so a read per check is fine). */
export function createStorageQuota(options: { limitsOf: (tenantId: string) => Promise<TenantLimits>; hooks?: LimitsHooks }): StorageQuota {
  const { limitsOf, hooks } = options;
  const sources: StorageSource[] = [];

  async function usage(tenantId: string, given?: TenantLimits): Promise<StorageUsage> {
    const limits = given ?? (await limitsOf(tenantId));
    const bySource: Record<string, number> = {};
    for (const source of sources) bySource[source.name] = Number(await source.bytesUsed(tenantId));
    const used = Object.values(bySource).reduce((a, b) => a + b, 0);
    return { used, limit: limits.storageBytes, remaining: Math.max(0, limits.storageBytes - used), bySource };
  }

  return {
    registerSource(source) {
      sources.push(source);
    },
    async check(tenantId, addBytes) {
      if (!(addBytes >= 0)) throw errors.validation(`bytes to store must be non-negative, got ${addBytes}`);
      const current = await usage(tenantId);
      if (current.used + addBytes <= current.limit) return;
      emit(hooks, 'onDecision', { tenantId, routeClass: 'ingest', allowed: false, reason: 'quota', cost: addBytes });
      throw errors.quotaExceeded(
        `storage quota of ${current.limit} bytes would be exceeded (stored ${current.used}, adding ${addBytes}); delete data or ask the operator to raise limits.storageBytes`,
        STORAGE_RETRY_AFTER_SECONDS,
        { quota: 'storageBytes', limit: current.limit, used: current.used, requested: addBytes, resetAt: null },
      );
    },
    usage,
  };
}
