import type { Db } from '../db/db.js';
import { tenantTablesChildrenFirst } from '../db/tenant-tables.js';
import { errors } from '../errors.js';
import type { AuthCache } from './auth-cache.js';

/** A store outside the tenant tables (artifacts, vector indexes, caches) that holds tenant data. */
export interface TenantDataStore {
  /** Name used in the receipt, e.g. `artifacts` or `model_cache`. */
  readonly name: string;
  /** Deletes everything of the tenant; returns how many items went, per sub-store name. */
  purgeTenant(tenantId: string): Promise<Record<string, number>>;
}

export interface PurgeReceipt {
  tenantId: string;
  deleted: Record<string, number>;
  completedAt: string;
}

/**
 * Deletes a tenant everywhere (invariant 6). Keys go first so no new request gets
 * in; then every registered store; then every tenant table — found from the
 * catalog, so a table added later is purged without anyone remembering to —
 * each through `withTenant`, so RLS guarantees no other tenant's row is touched;
 * the tenant row itself last.
 */
export class TenantPurge {
  private readonly stores: TenantDataStore[] = [];

  constructor(
    private readonly db: Db,
    private readonly authCache: AuthCache,
  ) {}

  private readonly purgedListeners: ((tenantId: string) => Promise<void>)[] = [];

  registerStore(store: TenantDataStore): void {
    this.stores.push(store);
  }

  /** Called after a purge completes (e.g. to evict the tenant from every replica's caches). */
  onPurged(listener: (tenantId: string) => Promise<void>): void {
    this.purgedListeners.push(listener);
  }

  async purge(tenantId: string): Promise<PurgeReceipt> {
    const exists = await this.db.withSystem((tx) => tx.query('select 1 from tenants where id = $1', [tenantId]));
    if (exists.rowCount === 0) throw errors.notFound('tenant', tenantId);
    const deleted: Record<string, number> = {};

    deleted.api_keys = (await this.db.withTenant(tenantId, (tx) => tx.query('delete from api_keys'))).rowCount;
    await this.authCache.invalidateTenant(tenantId);

    for (const store of this.stores) {
      for (const [name, count] of Object.entries(await store.purgeTenant(tenantId))) deleted[name] = (deleted[name] ?? 0) + count;
    }

    const tables = await this.db.withSystem((tx) => tenantTablesChildrenFirst(tx));
    await this.db.withTenant(tenantId, async (tx) => {
      for (const table of tables) {
        const res = await tx.query(`delete from "${table}"`);
        deleted[table] = (deleted[table] ?? 0) + res.rowCount;
      }
    });
    deleted.tenants = (await this.db.withSystem((tx) => tx.query('delete from tenants where id = $1', [tenantId]))).rowCount;
    for (const listener of this.purgedListeners) await listener(tenantId);
    return { tenantId, deleted, completedAt: new Date().toISOString() };
  }
}
