import type { Tenant } from './tenant.js';

/** What authentication needs to know about a key, cached so the hot path skips the database. */
export interface CachedKey {
  keyId: string;
  tenantId: string;
  secretHash: Buffer;
  revoked: boolean;
  tenant: Tenant;
  loadedAt: number;
}

/** The invalidations the auth cache publishes and applies (a subset of the platform's bus events). */
export type AuthInvalidation =
  | { type: 'key-revoked'; tenantId: string; keyId: string }
  | { type: 'tenant-changed'; tenantId: string }
  | { type: 'tenant-purged'; tenantId: string }
  | { type: 'resync' };

/**
 * In-memory API key cache. Entries expire after `ttlMs`, but revocation,
 * suspension and purge never wait for that: they drop entries at once here and,
 * through `broadcast`, on every other replica.
 */
export class AuthCache {
  private readonly byKey = new Map<string, CachedKey>();
  private broadcast: (event: AuthInvalidation) => Promise<void> = async () => {};

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 100_000,
  ) {}

  /** Connects the cache to a cross-replica channel. */
  setBroadcast(fn: (event: AuthInvalidation) => Promise<void>): void {
    this.broadcast = fn;
  }

  get(keyId: string): CachedKey | undefined {
    const e = this.byKey.get(keyId);
    if (!e) return undefined;
    if (this.now() - e.loadedAt > this.ttlMs) {
      this.byKey.delete(keyId);
      return undefined;
    }
    return e;
  }

  set(entry: CachedKey): void {
    if (this.byKey.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.byKey.keys().next().value;
      if (oldest !== undefined) this.byKey.delete(oldest);
    }
    this.byKey.set(entry.keyId, entry);
  }

  async invalidateKey(tenantId: string, keyId: string): Promise<void> {
    const event = { type: 'key-revoked', tenantId, keyId } as const;
    this.apply(event);
    await this.broadcast(event);
  }

  async invalidateTenant(tenantId: string): Promise<void> {
    this.apply({ type: 'tenant-changed', tenantId });
    await this.broadcast({ type: 'tenant-changed', tenantId });
  }

  /** Applies an invalidation (local or from another replica) to this cache only. */
  apply(event: AuthInvalidation): void {
    switch (event.type) {
      case 'key-revoked':
        this.byKey.delete(event.keyId);
        return;
      case 'resync':
        // Events may have been missed while disconnected: trust nothing cached.
        this.byKey.clear();
        return;
      case 'tenant-changed':
      case 'tenant-purged':
        for (const [keyId, e] of this.byKey) if (e.tenantId === event.tenantId) this.byKey.delete(keyId);
    }
  }
}
