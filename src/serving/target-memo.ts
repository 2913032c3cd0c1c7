/**
 * The registry-pointer cache of the predict path: (tenant, name) → the exact
 * version that serves it, and (tenant, name, version) → that version, so a hot
 * predict touches no database. Entries are dropped by bus events: a publish,
 * promote or delete (`model-version`, `alias-changed`) drops the tenant's
 * pointers for that model name; a global model's events drop that name for
 * every tenant (any of them may fall back to it); purge and tenant changes drop
 * the tenant; `resync` (events may have been missed) drops everything.
 *
 * A resolution in flight is stored as its promise, so concurrent misses share
 * one query, and an event that arrives while it runs deletes it: the next
 * request resolves again. Failures are not kept.
 */
import { GLOBAL_SCOPE } from '../models/global-model-store.js';
import type { ServingTarget } from '../models/serving-target.js';
import type { InvalidationEvent, ResyncEvent } from './invalidation-bus.js';

// Model names cannot contain '@' (artifact key segments), so the two key forms never collide.
const pointerKey = (name: string, version: number | undefined) => (version === undefined ? name : `${name}@${version}`);

/** One pointer: the resolution, and its value once it has arrived. */
interface Pointer {
  promise: Promise<ServingTarget>;
  value: ServingTarget | undefined;
}

/** Memoised serving targets, per tenant. */
export class TargetMemo {
  private readonly tenants = new Map<string, Map<string, Pointer>>();
  private size = 0;

  /** `maxEntries` bounds memory; past it the least recently added tenant's pointers go. */
  constructor(private readonly maxEntries = 100_000) {}

  /** The memoised target of (tenant, name[, version]), resolving it with `resolve` on a miss. */
  get(tenantId: string, name: string, version: number | undefined, resolve: () => Promise<ServingTarget>): Promise<ServingTarget> {
    let pointers = this.tenants.get(tenantId);
    const key = pointerKey(name, version);
    const known = pointers?.get(key);
    if (known !== undefined) return known.promise;
    if (pointers === undefined) {
      pointers = new Map();
      this.tenants.set(tenantId, pointers);
    }
    const pointer: Pointer = { promise: resolve(), value: undefined };
    pointers.set(key, pointer);
    this.size++;
    const owner = pointers;
    pointer.promise.then(
      (value) => {
        pointer.value = value;
      },
      () => {
        if (owner.get(key) === pointer) {
          owner.delete(key);
          this.size--;
        }
      },
    );
    if (this.size > this.maxEntries) this.dropOldestTenant(tenantId);
    return pointer.promise;
  }

  /** The memoised target if it has already resolved; never starts a resolution. */
  peek(tenantId: string, name: string, version?: number): ServingTarget | undefined {
    return this.tenants.get(tenantId)?.get(pointerKey(name, version))?.value;
  }

  /** Applies one bus event. */
  apply(event: InvalidationEvent | ResyncEvent): void {
    switch (event.type) {
      case 'model-version':
      case 'alias-changed':
        if (event.tenantId === GLOBAL_SCOPE) for (const pointers of this.tenants.values()) this.dropModel(pointers, event.model);
        else {
          const pointers = this.tenants.get(event.tenantId);
          if (pointers) this.dropModel(pointers, event.model);
        }
        return;
      case 'tenant-purged':
      case 'tenant-changed':
        this.dropTenant(event.tenantId);
        return;
      case 'resync':
        this.clear();
        return;
      case 'key-revoked':
        return;
    }
  }

  /** Number of memoised pointers. */
  get entries(): number {
    return this.size;
  }

  clear(): void {
    this.tenants.clear();
    this.size = 0;
  }

  private dropModel(pointers: Map<string, Pointer>, model: string): void {
    for (const key of [...pointers.keys()]) {
      if (key === model || key.startsWith(`${model}@`)) {
        pointers.delete(key);
        this.size--;
      }
    }
  }

  private dropTenant(tenantId: string): void {
    const pointers = this.tenants.get(tenantId);
    if (!pointers) return;
    this.size -= pointers.size;
    this.tenants.delete(tenantId);
  }

  private dropOldestTenant(except: string): void {
    for (const tenantId of this.tenants.keys()) {
      if (tenantId !== except) {
        this.dropTenant(tenantId);
        return;
      }
    }
  }
}
