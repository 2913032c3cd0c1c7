/**
 * Namespace records by (tenant, name), so a warm query needs one transaction
 * instead of two. A record is only ever read through `withTenant`, and every
 * query re-reads the namespace's generation with its hits, so a stale entry
 * (namespace deleted or replaced elsewhere, a missed event) is noticed by the
 * query that uses it and replaced: the cache can cost a retry, never a wrong
 * answer.
 */
import type { NamespaceRecord } from '../storage/namespace-records.js';

/** Entries kept at most; the oldest go first (a record is a few hundred bytes). */
const MAX_ENTRIES = 10_000;

/** A small map of namespace records, keyed with the tenant first. */
export class NamespaceRecordCache {
  readonly #byKey = new Map<string, { tenantId: string; ns: NamespaceRecord }>();

  /** The tenant's namespace called `name`, if cached. */
  get(tenantId: string, name: string): NamespaceRecord | undefined {
    return this.#byKey.get(keyOf(tenantId, name))?.ns;
  }

  /** Caches a record just read under the tenant's RLS scope. */
  remember(tenantId: string, ns: NamespaceRecord): void {
    const key = keyOf(tenantId, ns.name);
    this.#byKey.delete(key);
    if (this.#byKey.size >= MAX_ENTRIES) this.#byKey.delete(this.#byKey.keys().next().value!);
    this.#byKey.set(key, { tenantId, ns });
  }

  /** Forgets the tenant's namespace with this id. */
  forget(tenantId: string, namespaceId: string): void {
    for (const [key, e] of this.#byKey) if (e.tenantId === tenantId && e.ns.id === namespaceId) this.#byKey.delete(key);
  }

  /** Forgets every namespace of the tenant (purge). */
  forgetTenant(tenantId: string): void {
    for (const [key, e] of this.#byKey) if (e.tenantId === tenantId) this.#byKey.delete(key);
  }
}

function keyOf(tenantId: string, name: string): string {
  return `${tenantId}\u0000${name}`;
}
