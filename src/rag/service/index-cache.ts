/**
 * The memory of the vector indexes: a byte-budgeted LRU keyed by
 * `${tenantId}/${namespaceId}` (invariant 3). Unlike the model cache, an
 * entry's size changes as documents are added, so sizes are re-read on
 * `resized()`. Eviction hands the entry to `onEvict` (which writes a dirty
 * index back); every entry that leaves, evicted, replaced or deleted, then
 * goes to `onLeave`. Neither touches a caller's reference: a search holding a
 * lease on an entry (see `NamespaceIndexes.acquireSet`) finishes with it.
 */
import type { VectorIndex } from '../index/vector-index.js';
import type { LexicalIndex } from '../search/lexical-index.js';

/** A resident index of one tenant's namespace. */
export interface CachedIndex {
  readonly key: string;
  readonly tenantId: string;
  readonly namespaceId: string;
  index: VectorIndex;
  /** BM25 over the same chunks, at the same generation; absent until built or loaded. */
  lexical?: LexicalIndex | undefined;
  /** Changed in memory since it was last persisted. */
  dirty: boolean;
  /** Searches holding the entry; its memory is reused only once it has left the cache and this is 0. */
  leases: number;
  /** Set when the entry leaves the cache. */
  retired?: boolean;
  /** Pooled buffers the indexes keep views on, returned to the pool when the entry is retired and unleased. */
  buffers?: ArrayBuffer[];
  /** Bytes of `buffers` past what the indexes use (pooled buffers are rounded up), counted against the budget. */
  slackBytes?: number;
}

/** The cache key of a namespace's index; the tenant comes first. */
export function indexCacheKey(tenantId: string, namespaceId: string): string {
  return `${tenantId}/${namespaceId}`;
}

/** Least-recently-used entries leave first once resident bytes pass the budget. */
export class IndexCache {
  readonly #entries = new Map<string, { entry: CachedIndex; bytes: number }>();
  #bytes = 0;

  constructor(
    readonly budgetBytes: number,
    private readonly onEvict: (entry: CachedIndex) => void = () => undefined,
    private readonly onLeave: (entry: CachedIndex) => void = () => undefined,
  ) {}

  /** The entry, marked most recently used. */
  get(key: string): CachedIndex | undefined {
    const slot = this.#entries.get(key);
    if (!slot) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, slot);
    return slot.entry;
  }

  /** The entry without touching its recency. */
  peek(key: string): CachedIndex | undefined {
    return this.#entries.get(key)?.entry;
  }

  /** Adds or replaces an entry, then evicts others past the budget. */
  set(entry: CachedIndex): void {
    this.delete(entry.key);
    const bytes = entryBytes(entry);
    this.#entries.set(entry.key, { entry, bytes });
    this.#bytes += bytes;
    this.evictPast(entry.key);
  }

  /** Re-reads an entry's size after it changed in place. */
  resized(entry: CachedIndex): void {
    const slot = this.#entries.get(entry.key);
    if (!slot || slot.entry !== entry) return;
    const bytes = entryBytes(entry);
    this.#bytes += bytes - slot.bytes;
    slot.bytes = bytes;
    this.evictPast(entry.key);
  }

  /** Removes an entry without calling `onEvict` (`onLeave` is called). Returns it if it was resident. */
  delete(key: string): CachedIndex | undefined {
    const entry = this.#remove(key);
    if (entry) this.onLeave(entry);
    return entry;
  }

  #remove(key: string): CachedIndex | undefined {
    const slot = this.#entries.get(key);
    if (!slot) return undefined;
    this.#entries.delete(key);
    this.#bytes -= slot.bytes;
    return slot.entry;
  }

  /** Removes every entry matching `predicate`; returns them. */
  deleteWhere(predicate: (entry: CachedIndex) => boolean): CachedIndex[] {
    const out: CachedIndex[] = [];
    for (const { entry } of [...this.#entries.values()]) if (predicate(entry)) out.push(this.delete(entry.key)!);
    return out;
  }

  /** Every resident entry, least recently used first. */
  entries(): CachedIndex[] {
    return [...this.#entries.values()].map((s) => s.entry);
  }

  get residentBytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  private evictPast(keep: string): void {
    for (const [key, slot] of this.#entries) {
      if (this.#bytes <= this.budgetBytes) return;
      if (key === keep) continue;
      this.#remove(key);
      this.onEvict(slot.entry);
      this.onLeave(slot.entry);
    }
    // A single index larger than the whole budget stays until the next one arrives.
  }
}

function entryBytes(entry: CachedIndex): number {
  return entry.index.sizeBytes + (entry.lexical?.sizeBytes ?? 0) + (entry.slackBytes ?? 0);
}
