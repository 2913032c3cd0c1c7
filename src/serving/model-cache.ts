/**
 * The serving multiplexer's memory: a byte-budgeted, tenant-aware cache of
 * loaded models, generic over the loaded value. See README.md beside this file
 * for the design (policy choice, pinning, per-tenant caps, invalidation).
 */
import { errors } from '../errors.js';
import { createEvictionPolicy, type EvictionPolicy, type GdsfOptions, type PolicyEntry, type PolicyName } from './cache-policy.js';
import {
  type CacheCounters,
  emptyCounters,
  type EvictionReason,
  type ModelCacheEvent,
  type ModelCacheSnapshot,
  type ModelCacheStats,
  type ModelKey,
  type TenantCacheStats,
} from './model-cache-stats.js';

export type { ModelKey } from './model-cache-stats.js';

/** What a loader returns: the value and its real size in memory. */
export interface LoadedModel<T> {
  value: T;
  sizeBytes: number;
  /** Reload cost for the policy; defaults to the measured load time. */
  loadCostMs?: number;
}

/** Loads one model version (fetch from the artifact store, verify, parse). */
export type ModelLoader<T> = (key: ModelKey) => Promise<LoadedModel<T>>;

/** Configuration of a `ModelCache`. */
export interface ModelCacheOptions<T> {
  /** Byte budget for resident models (`TENANTML_MODEL_CACHE_BYTES`). */
  budgetBytes: number;
  load: ModelLoader<T>;
  /** Default `gdsf` (measured better than LRU by bench/model-cache-policy.ts). */
  policy?: PolicyName;
  policyOptions?: GdsfOptions;
  /** At most this many bytes resident for one tenant. */
  tenantMaxBytes?: number;
  /** At most this share (0-1] of the budget resident for one tenant. */
  tenantMaxShare?: number;
  /** Observability hook; must not throw. */
  onEvent?: (event: ModelCacheEvent) => void;
  /**
   * Called once for a loaded value when it has left the cache for good: no
   * longer resident (evicted, invalidated or never admitted) and no lease
   * holds it. Nothing obtained through the cache reads it afterwards, so its
   * memory may be reused. Must not throw.
   */
  onDrop?: (value: T) => void;
  /** Clock, for tests. */
  now?: () => number;
}

const NO_ENTRIES: ReadonlySet<never> = new Set();
const NO_VICTIMS: readonly never[] = [];

/** A pinned model: it cannot be evicted until `release()` is called. */
export interface ModelLease<T> {
  readonly key: ModelKey;
  readonly value: T;
  /** Idempotent. */
  release(): void;
}

interface Entry<T> extends PolicyEntry {
  readonly key: ModelKey;
  readonly value: T;
  pins: number;
  resident: boolean;
  hits: number;
  loadMs: number;
  loadedAt: number;
  lastUsedAt: number;
}

interface Flight<T> {
  readonly key: ModelKey;
  readonly promise: Promise<Entry<T>>;
  /** Requests waiting on this load; each gets one pin when it completes. */
  waiters: number;
  /** Invalidated while loading: serve the waiters, keep nothing. */
  stale: boolean;
}

interface TenantState {
  bytes: number;
  /**
   * A count, not a set of its entries: most tenants have one model resident, and removing a set's last member
   * reallocates its table, one table per eviction that lived as long as the tenant (promoted, then garbage).
   */
  residentEntries: number;
  counters: CacheCounters;
}

// Keys handed in repeatedly (the serving layer memoises them) get their id string built once.
const ids = new WeakMap<ModelKey, string>();
const idOf = (key: ModelKey): string => {
  let id = ids.get(key);
  if (id === undefined) {
    id = `${key.tenantId}\u0000${key.model}\u0000${key.version}`;
    ids.set(key, id);
  }
  return id;
};

/** A memory-budgeted, single-flight, pin-aware cache of loaded models keyed by tenant, model and version. */
export class ModelCache<T> {
  readonly budgetBytes: number;
  private readonly load: ModelLoader<T>;
  private readonly policy: EvictionPolicy;
  private readonly tenantCap: number;
  private readonly onEvent: ((event: ModelCacheEvent) => void) | undefined;
  private readonly onDrop: ((value: T) => void) | undefined;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry<T>>();
  private readonly flights = new Map<string, Flight<T>>();
  private readonly tenants = new Map<string, TenantState>();
  private readonly candidates: Array<Entry<T> | undefined> = [];
  private residentBytes = 0;
  private transientBytes = 0;

  constructor(options: ModelCacheOptions<T>) {
    if (!(options.budgetBytes >= 0)) throw errors.validation('model cache budget must be a number of bytes >= 0');
    const share = options.tenantMaxShare;
    if (share !== undefined && !(share > 0 && share <= 1)) throw errors.validation('tenantMaxShare must be in (0, 1]');
    this.budgetBytes = options.budgetBytes;
    this.load = options.load;
    this.policy = createEvictionPolicy(options.policy ?? 'gdsf', options.policyOptions);
    this.tenantCap = Math.min(
      options.tenantMaxBytes ?? Number.POSITIVE_INFINITY,
      share === undefined ? Number.POSITIVE_INFINITY : Math.floor(share * options.budgetBytes),
    );
    this.onEvent = options.onEvent;
    this.onDrop = options.onDrop;
    this.now = options.now ?? Date.now;
  }

  /** Runs `fn` with the model pinned, loading it first if needed; releases it afterwards. */
  async use<R>(key: ModelKey, fn: (value: T) => R | Promise<R>): Promise<R> {
    const lease = await this.acquire(key);
    try {
      return await fn(lease.value);
    } finally {
      lease.release();
    }
  }

  /** Returns the model pinned. One load per key however many callers wait; a failed load rejects them all. */
  async acquire(key: ModelKey): Promise<ModelLease<T>> {
    const hit = this.tryAcquire(key);
    if (hit !== undefined) return hit;
    const id = idOf(key);
    this.countMiss(id, key);
    let flight = this.flights.get(id);
    if (flight === undefined) flight = this.startLoad(id, key);
    flight.waiters++;
    return this.lease(await flight.promise); // the pin was taken for us when the load completed
  }

  /** Returns the model pinned if it is resident (a hit), else undefined having counted nothing: then `acquire`. */
  tryAcquire(key: ModelKey): ModelLease<T> | undefined {
    const id = idOf(key);
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    this.policy.recordAccess(id);
    this.tenant(key.tenantId).counters.hits++;
    entry.hits++;
    entry.lastUsedAt = this.now();
    this.policy.touch(entry);
    this.onEvent?.({ type: 'hit', key });
    entry.pins++;
    return this.lease(entry);
  }

  /**
   * Like `acquire` for a model that `loadNow` can load synchronously (a local
   * read of a compiled layout, a fraction of a millisecond): a hit, or a miss
   * loaded and pinned before this returns, with no promise, queue or timer per
   * request. Undefined, having counted nothing, when a load of this key is
   * already running (join it with `acquire`) or `loadNow` cannot load it (it
   * returns undefined; `acquire`'s loader then reports why).
   */
  acquireNow(key: ModelKey, loadNow: (key: ModelKey) => LoadedModel<T> | undefined): ModelLease<T> | undefined {
    const hit = this.tryAcquire(key);
    if (hit !== undefined) return hit;
    const id = idOf(key);
    if (this.flights.has(id)) return undefined;
    const started = performance.now();
    const loaded = loadNow(key);
    if (loaded === undefined) return undefined;
    this.countMiss(id, key);
    return this.lease(this.loaded(id, key, loaded, performance.now() - started, 1, false));
  }

  /** Loads `keys` ahead of traffic (at most `concurrency` at a time); failures are reported, not thrown. */
  async warm(keys: readonly ModelKey[], concurrency = 4): Promise<{ loaded: number; failed: Array<{ key: ModelKey; error: unknown }> }> {
    const failed: Array<{ key: ModelKey; error: unknown }> = [];
    let loaded = 0;
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++] as ModelKey;
        try {
          (await this.acquire(key)).release();
          loaded++;
        } catch (error) {
          failed.push({ key, error });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, keys.length)) }, worker));
    return { loaded, failed };
  }

  /** Drops one model version (and any load of it in flight). Returns whether anything was dropped. */
  invalidate(key: ModelKey): boolean {
    return this.invalidateWhere((k) => idOf(k) === idOf(key)) > 0;
  }

  /** Drops every model of a tenant (purge, suspension). Returns how many entries and loads were dropped. */
  invalidateTenant(tenantId: string): number {
    return this.invalidateWhere((k) => k.tenantId === tenantId);
  }

  /** Drops a tenant's models matching the given model name and, optionally, version. */
  invalidatePrefix(prefix: { tenantId: string; model?: string; version?: string }): number {
    return this.invalidateWhere(
      (k) =>
        k.tenantId === prefix.tenantId &&
        (prefix.model === undefined || k.model === prefix.model) &&
        (prefix.version === undefined || k.version === prefix.version),
    );
  }

  /** Drops everything resident (running requests keep their pinned values). */
  clear(): number {
    return this.invalidateWhere(() => true);
  }

  /** Whether the exact version is resident (no stats, no pin). */
  has(key: ModelKey): boolean {
    return this.entries.has(idOf(key));
  }

  /** Per-tenant counters and resident bytes. */
  stats(): ModelCacheStats {
    const totals: TenantCacheStats = { ...emptyCounters(), residentBytes: 0, residentEntries: 0 };
    const tenants: Record<string, TenantCacheStats> = {};
    for (const [tenantId, state] of this.tenants) {
      const row = { ...state.counters, residentBytes: state.bytes, residentEntries: state.residentEntries };
      tenants[tenantId] = row;
      for (const k of Object.keys(totals) as Array<keyof TenantCacheStats>) {
        totals[k] = k === 'loadMsMax' ? Math.max(totals[k], row[k]) : totals[k] + row[k];
      }
    }
    return { totals, tenants };
  }

  /** What is loaded right now, most recently used first. */
  snapshot(): ModelCacheSnapshot {
    const entries = [...this.entries.values()]
      .sort((a, b) => b.lastUsedAt - a.lastUsedAt)
      .map((e) => ({
        tenantId: e.key.tenantId,
        model: e.key.model,
        version: e.key.version,
        sizeBytes: e.sizeBytes,
        hits: e.hits,
        pins: e.pins,
        loadMs: e.loadMs,
        loadedAt: new Date(e.loadedAt).toISOString(),
        lastUsedAt: new Date(e.lastUsedAt).toISOString(),
      }));
    return {
      policy: this.policy.name,
      budgetBytes: this.budgetBytes,
      residentBytes: this.residentBytes,
      transientBytes: this.transientBytes,
      loadsInFlight: this.flights.size,
      entries,
    };
  }

  private tenant(tenantId: string): TenantState {
    let state = this.tenants.get(tenantId);
    if (state === undefined) {
      state = { bytes: 0, residentEntries: 0, counters: emptyCounters() };
      this.tenants.set(tenantId, state);
    }
    return state;
  }

  private countMiss(id: string, key: ModelKey): void {
    this.policy.recordAccess(id);
    this.tenant(key.tenantId).counters.misses++;
    this.onEvent?.({ type: 'miss', key });
  }

  private startLoad(id: string, key: ModelKey): Flight<T> {
    const started = performance.now();
    const counters = this.tenant(key.tenantId).counters;
    const flight: Flight<T> = {
      key,
      waiters: 0,
      stale: false,
      promise: this.load(key).then(
        (loaded) => {
          if (this.flights.get(id) === flight) this.flights.delete(id);
          return this.loaded(id, key, loaded, performance.now() - started, flight.waiters, flight.stale);
        },
        (error: unknown) => {
          if (this.flights.get(id) === flight) this.flights.delete(id);
          const durationMs = performance.now() - started;
          counters.loadFailures++;
          this.onEvent?.({ type: 'load-failed', key, durationMs, error });
          throw error;
        },
      ),
    };
    this.flights.set(id, flight);
    return flight;
  }

  /** A finished load as an entry, pinned `pins` times, admitted unless `stale` or refused; counted and reported. */
  private loaded(id: string, key: ModelKey, loaded: LoadedModel<T>, durationMs: number, pins: number, stale: boolean): Entry<T> {
    const counters = this.tenant(key.tenantId).counters;
    counters.loads++;
    counters.loadMsTotal += durationMs;
    counters.loadMsMax = Math.max(counters.loadMsMax, durationMs);
    const now = this.now();
    const entry: Entry<T> = {
      id,
      key,
      value: loaded.value,
      sizeBytes: Math.max(0, loaded.sizeBytes),
      loadCostMs: loaded.loadCostMs ?? durationMs,
      priority: 0,
      pins, // pinned for every waiter before anything can evict it
      resident: false,
      hits: 0,
      loadMs: durationMs,
      loadedAt: now,
      lastUsedAt: now,
    };
    const admitted = !stale && this.admit(entry);
    if (!admitted) {
      counters.notAdmitted++;
      this.transientBytes += entry.sizeBytes;
    }
    this.onEvent?.({ type: 'load', key, durationMs, sizeBytes: entry.sizeBytes, admitted });
    return entry;
  }

  /** Makes room for `entry` and inserts it, or returns false if it must not be kept. */
  private admit(entry: Entry<T>): boolean {
    const tenant = this.tenant(entry.key.tenantId);
    if (entry.sizeBytes > this.budgetBytes || entry.sizeBytes > this.tenantCap) return false;
    this.policy.touch(entry);
    // Victims first from the tenant's own entries (its cap), then from everyone (the budget).
    const capVictims = this.pickVictims(tenant.bytes + entry.sizeBytes - this.tenantCap, NO_ENTRIES, entry.key.tenantId);
    if (capVictims === null) return false;
    const freedByCap = capVictims.reduce((sum, v) => sum + v.sizeBytes, 0);
    const budgetVictims = this.pickVictims(
      this.residentBytes - freedByCap + entry.sizeBytes - this.budgetBytes,
      capVictims.length === 0 ? NO_ENTRIES : new Set(capVictims),
    );
    if (budgetVictims === null) return false;
    if (!this.policy.admit(entry, capVictims.length === 0 ? budgetVictims : [...capVictims, ...budgetVictims])) return false;
    for (const victim of capVictims) this.evict(victim, 'tenant-cap');
    for (const victim of budgetVictims) this.evict(victim, 'budget');
    entry.resident = true;
    this.entries.set(entry.id, entry);
    tenant.residentEntries++;
    tenant.bytes += entry.sizeBytes;
    this.residentBytes += entry.sizeBytes;
    return true;
  }

  /**
   * The lowest-priority unpinned resident entries (of `tenantId` only, if given) freeing at least `needed` bytes,
   * or null if pins make it impossible.
   */
  private pickVictims(needed: number, exclude: ReadonlySet<Entry<T>>, tenantId?: string): readonly Entry<T>[] | null {
    if (needed <= 0) return NO_VICTIMS;
    // Candidates in a scratch array kept across calls: this runs on every miss that evicts, in the request's turn.
    const candidates = this.candidates;
    let count = 0;
    for (const e of this.entries.values()) {
      if (e.pins === 0 && !exclude.has(e) && (tenantId === undefined || e.key.tenantId === tenantId)) candidates[count++] = e;
    }
    // Lowest priority first, each found by a scan: a miss evicts one or two entries of a few hundred, and sorting
    // them all on every miss cost a comparison callback (and a heap number) per pair, 7% of what the Zipf run allocated.
    // The first of equal priorities is taken, as a stable sort would.
    const victims: Entry<T>[] = [];
    let freed = 0;
    let left = count;
    while (freed < needed && left > 0) {
      let lowest = 0;
      for (let i = 1; i < left; i++) if (candidates[i]!.priority < candidates[lowest]!.priority) lowest = i;
      const victim = candidates[lowest]!;
      for (let i = lowest; i < left - 1; i++) candidates[i] = candidates[i + 1];
      left--;
      victims.push(victim);
      freed += victim.sizeBytes;
    }
    candidates.fill(undefined, 0, count); // holds no entry past this call
    return freed < needed ? null : victims;
  }

  private evict(entry: Entry<T>, reason: EvictionReason): void {
    this.removeResident(entry);
    if (reason !== 'invalidated') this.policy.onEvict(entry);
    this.tenant(entry.key.tenantId).counters.evictions++;
    this.onEvent?.({ type: 'evict', key: entry.key, sizeBytes: entry.sizeBytes, reason });
  }

  private removeResident(entry: Entry<T>): void {
    const tenant = this.tenant(entry.key.tenantId);
    this.entries.delete(entry.id);
    tenant.residentEntries--;
    tenant.bytes -= entry.sizeBytes;
    this.residentBytes -= entry.sizeBytes;
    entry.resident = false;
    // Still pinned by running requests: its bytes stay alive until they finish.
    if (entry.pins > 0) this.transientBytes += entry.sizeBytes;
    else this.onDrop?.(entry.value);
  }

  private invalidateWhere(match: (key: ModelKey) => boolean): number {
    let count = 0;
    for (const [id, flight] of this.flights) {
      if (!match(flight.key)) continue;
      flight.stale = true;
      this.flights.delete(id); // the next request starts a fresh load
      count++;
    }
    for (const entry of [...this.entries.values()]) {
      if (!match(entry.key)) continue;
      this.evict(entry, 'invalidated');
      count++;
    }
    return count;
  }

  /** Wraps an entry whose pin has already been taken for this caller. */
  private lease(entry: Entry<T>): ModelLease<T> {
    return new Lease(entry, this.unpin);
  }

  /** A lease's release: the entry unpinned, and dropped if it was evicted while pinned. */
  private readonly unpin = (entry: Entry<T>): void => {
    entry.pins--;
    if (entry.pins === 0 && !entry.resident) {
      this.transientBytes -= entry.sizeBytes;
      this.onDrop?.(entry.value);
    }
  };
}

// A class, not an object literal with a closure: a lease is taken on every prediction, and a closure made per call
// costs an allocation (and, under tsx's keep-names transform, a property definition) each time.
class Lease<T> implements ModelLease<T> {
  private released = false;
  constructor(
    private readonly entry: Entry<T>,
    private readonly unpin: (entry: Entry<T>) => void,
  ) {}
  get key(): ModelKey {
    return this.entry.key;
  }
  get value(): T {
    return this.entry.value;
  }
  release(): void {
    if (this.released) return;
    this.released = true;
    this.unpin(this.entry);
  }
}

/** Creates a model cache; see `ModelCacheOptions`. */
export function createModelCache<T>(options: ModelCacheOptions<T>): ModelCache<T> {
  return new ModelCache(options);
}
