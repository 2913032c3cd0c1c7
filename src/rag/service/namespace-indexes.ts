/**
 * Per-(tenant, namespace) vector indexes: loaded from the artifact store on
 * first use, rebuilt from Postgres (the source of truth) in a worker thread
 * when missing, stale or corrupt, updated in place after each committed
 * write, written back under the new generation, and dropped on every replica
 * when another replica writes or the tenant is purged. See README.md.
 */
import type { Db } from '../../db/db.js';
import type { InvalidationBus } from '../../serving/invalidation-bus.js';
import type { ArtifactStore } from '../../storage/artifact-store.js';
import { artifactKey, tenantArtifactPrefix } from '../../storage/artifact-key.js';
import { chooseIndexKind, createVectorIndex, HNSW_THRESHOLD, loadVectorIndex } from '../index/create-vector-index.js';
import { readIndexHeader } from '../index/index-format.js';
import type { VectorIndex } from '../index/vector-index.js';
import { LexicalIndex } from '../search/lexical-index.js';
import { namespaceEmbeddings, namespaceTexts } from '../storage/document-records.js';
import { decodeEmbeddingInto } from '../storage/embedding-codec.js';
import type { RagWorkerPool } from '../worker/rag-worker-pool.js';
import { BufferPool } from '../../storage/buffer-pool.js';
import { type CachedIndex, IndexCache, indexCacheKey } from './index-cache.js';
import type { RagMetrics } from './rag-metrics.js';

/** What the index layer needs to know of a namespace. */
export interface IndexedNamespace {
  id: string;
  dimension: number;
  /** The namespace's committed write generation, as just read from Postgres. */
  generation: number;
}

/** A committed write, to apply to a resident index. */
export interface IndexWrite {
  /** The generation the write committed (the previous one plus one). */
  generation: number;
  removed: readonly number[];
  addedLabels: readonly number[];
  addedVectors: readonly Float32Array[];
  /** The added chunks' texts, for the lexical index (without them a resident lexical index is dropped). */
  addedTexts?: readonly string[];
}

/**
 * A namespace's resident indexes, leased: call `release()` once done with
 * them (their memory may then go to another namespace's next load). `lexical`
 * is absent while it is being built: use Postgres full-text search then.
 */
export interface NamespaceIndexSet {
  vector: VectorIndex;
  lexical: LexicalIndex | undefined;
  release(): void;
}

/** Wiring and tuning. */
export interface NamespaceIndexesOptions {
  db: Db;
  artifacts: ArtifactStore;
  pool: RagWorkerPool;
  bus: InvalidationBus;
  metrics: RagMetrics;
  cacheBytes: number;
  hnswThreshold?: number;
  /** Dirty indexes are written back this long after their last change (default 250 ms). */
  writeBackDelayMs?: number;
  log?: (level: 'warn' | 'error', message: string, details: Record<string, unknown>) => void;
}

/** Memory of dropped indexes kept for the next loads: an eighth of the budget, at most this. */
const MAX_POOLED_BYTES = 64 * 2 ** 20;

const INDEX_FILE = 'index.tmvx';
const LEXICAL_FILE = 'lexical.tmlx';

/** The artifact key of a namespace's lexical index at one generation (next to the vector index). */
export function lexicalArtifactKey(tenantId: string, namespaceId: string, generation: number): string {
  return artifactKey({ tenantId, kind: 'indexes', name: namespaceId, version: generation, file: LEXICAL_FILE });
}

/** The artifact key of a namespace's index at one generation. */
export function indexArtifactKey(tenantId: string, namespaceId: string, generation: number): string {
  return artifactKey({ tenantId, kind: 'indexes', name: namespaceId, version: generation, file: INDEX_FILE });
}

/** The prefix holding every generation of a namespace's index. */
export function indexArtifactPrefix(tenantId: string, namespaceId: string): string {
  return `${tenantArtifactPrefix(tenantId)}indexes/${namespaceId}/`;
}

/** The tenant's vector indexes, memory-budgeted and consistent with Postgres by generation. */
export class NamespaceIndexes {
  readonly #cache: IndexCache;
  readonly #buffers: BufferPool;
  readonly #flights = new Map<string, Promise<CachedIndex>>();
  readonly #lexicalFlights = new Map<string, Promise<void>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #writes = new Set<Promise<void>>();
  /** Newest generation written per namespace by this process. */
  readonly #newestWritten = new Map<string, number>();
  readonly #threshold: number;
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(private readonly o: NamespaceIndexesOptions) {
    this.#threshold = o.hnswThreshold ?? HNSW_THRESHOLD;
    this.#buffers = new BufferPool(Math.min(MAX_POOLED_BYTES, Math.floor(o.cacheBytes / 8)));
    this.#cache = new IndexCache(
      o.cacheBytes,
      (entry) => {
        this.#cancelTimer(entry.key);
        // `#persist` serializes before its first await, so the bytes are copied before the entry is retired below.
        if (entry.dirty) this.#track(this.#persist(entry));
        this.#gauge();
      },
      (entry) => this.#retire(entry),
    );
    this.#unsubscribe = o.bus.subscribe((event) => {
      if (event.type === 'tenant-purged') this.evictTenant(event.tenantId);
      else if (event.type === 'index-changed') {
        const key = indexCacheKey(event.tenantId, event.namespace);
        const entry = this.#cache.peek(key);
        if (entry && entry.index.generation < event.generation) this.#drop(key);
      } else if (event.type === 'resync') {
        // Missed events cannot serve stale results: every query compares generations with Postgres.
      }
    });
  }

  /** Makes the namespace's indexes resident at (at least) the given generation, loading or rebuilding them if needed. */
  async ensureResident(tenantId: string, ns: IndexedNamespace): Promise<void> {
    (await this.acquireSet(tenantId, ns)).release();
  }

  /**
   * The namespace's vector index and its lexical index at the same generation.
   * A missing lexical index is built (from Postgres) before answering, so a
   * query ranks the same whether or not the index happened to be resident.
   */
  async acquireSet(tenantId: string, ns: IndexedNamespace): Promise<NamespaceIndexSet> {
    let entry = await this.#acquireEntry(tenantId, ns);
    // An entry that left the cache before this continuation ran may already have lent its memory out: load again.
    for (let attempt = 0; entry.retired && attempt < 3; attempt++) entry = await this.#acquireEntry(tenantId, ns);
    if (entry.retired) throw new Error(`index of namespace ${ns.id} keeps leaving the cache; the index cache budget is too small`);
    entry.leases++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      entry.leases--;
      this.#recycle(entry);
    };
    try {
      const current = () => (entry.lexical && entry.lexical.generation === entry.index.generation ? entry.lexical : undefined);
      if (!current() && this.#cache.peek(entry.key) === entry) await this.#buildLexical(entry);
      return { vector: entry.index, lexical: current(), release };
    } catch (err) {
      release();
      throw err;
    }
  }

  async #acquireEntry(tenantId: string, ns: IndexedNamespace): Promise<CachedIndex> {
    const key = indexCacheKey(tenantId, ns.id);
    const entry = this.#cache.get(key);
    if (entry && entry.index.generation >= ns.generation && entry.index.dimension === ns.dimension) return entry;
    let flight = this.#flights.get(key);
    if (!flight) {
      flight = this.#load(tenantId, ns).finally(() => this.#flights.delete(key));
      this.#flights.set(key, flight);
    }
    // A load that raced a newer write is still the best we have; the next query reloads.
    return flight;
  }

  /** Whether the namespace's index is resident (tests, benchmarks). */
  isResident(tenantId: string, namespaceId: string): boolean {
    return this.#cache.peek(indexCacheKey(tenantId, namespaceId)) !== undefined;
  }

  /**
   * Applies a committed write: in place when the resident index is exactly one
   * generation behind, otherwise the index is dropped and rebuilt on the next
   * query. Then tells the other replicas.
   */
  async applyWrite(tenantId: string, namespaceId: string, write: IndexWrite): Promise<void> {
    const key = indexCacheKey(tenantId, namespaceId);
    const entry = this.#cache.peek(key);
    if (entry && entry.index.generation === write.generation - 1) {
      // Changed in place, the indexes may move to arrays of their own: their read buffers go to the GC, not the pool.
      entry.buffers = undefined;
      entry.slackBytes = 0;
      entry.index.remove(write.removed);
      if (write.addedLabels.length > 0) entry.index.add(write.addedLabels, write.addedVectors);
      entry.index.generation = write.generation;
      if (entry.lexical && (write.addedTexts?.length ?? 0) === write.addedLabels.length) {
        entry.lexical.remove(write.removed);
        if (write.addedLabels.length > 0) entry.lexical.add(write.addedLabels, write.addedTexts ?? []);
        entry.lexical.generation = write.generation;
      } else {
        entry.lexical = undefined;
      }
      entry.dirty = true;
      this.#cache.resized(entry);
      this.#gauge();
      if (entry.index.kind === 'exact' && chooseIndexKind(entry.index.size, this.#threshold) === 'hnsw') {
        // Grown past the threshold: keep serving the exact index while an HNSW graph builds in a worker.
        this.#track(this.#upgrade(tenantId, { id: namespaceId, dimension: entry.index.dimension, generation: write.generation }));
      } else {
        this.#scheduleWriteBack(entry);
      }
    } else if (entry) {
      this.#drop(key);
    }
    await this.o.bus.publish({ type: 'index-changed', tenantId, namespace: namespaceId, generation: write.generation });
  }

  /** Forgets a deleted namespace here and everywhere, and deletes its index files. */
  async dropNamespace(tenantId: string, namespaceId: string): Promise<number> {
    this.#drop(indexCacheKey(tenantId, namespaceId));
    await Promise.allSettled([...this.#writes]);
    this.#newestWritten.delete(indexCacheKey(tenantId, namespaceId));
    const deleted = await this.o.artifacts.deletePrefix(indexArtifactPrefix(tenantId, namespaceId));
    await this.o.bus.publish({ type: 'index-changed', tenantId, namespace: namespaceId, generation: Number.MAX_SAFE_INTEGER });
    return deleted;
  }

  /** Drops every resident index of a tenant (purge, on every replica). Pending write-backs are cancelled. */
  evictTenant(tenantId: string): number {
    const dropped = this.#cache.deleteWhere((e) => e.tenantId === tenantId);
    for (const e of dropped) this.#cancelTimer(e.key);
    this.#gauge();
    return dropped.length;
  }

  /** Purge store: evicts the tenant's indexes, waits for writes in flight, deletes the index files. */
  async purgeTenant(tenantId: string): Promise<Record<string, number>> {
    const evicted = this.evictTenant(tenantId);
    await Promise.allSettled([...this.#writes]);
    for (const key of [...this.#newestWritten.keys()]) if (key.startsWith(`${tenantId}/`)) this.#newestWritten.delete(key);
    const files = await this.o.artifacts.deletePrefix(`${tenantArtifactPrefix(tenantId)}indexes/`);
    return { rag_index_files: files, rag_index_cache: evicted };
  }

  /** Writes back every dirty index now (shutdown, tests). */
  async flush(): Promise<void> {
    for (const entry of this.#cache.entries()) {
      if (!entry.dirty) continue;
      this.#cancelTimer(entry.key);
      this.#track(this.#persist(entry));
    }
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
  }

  /** Resident bytes and entries. */
  stats(): { residentBytes: number; entries: number; budgetBytes: number } {
    return { residentBytes: this.#cache.residentBytes, entries: this.#cache.size, budgetBytes: this.#cache.budgetBytes };
  }

  /** Drops everything resident without writing back (tests of cold loads). */
  clearMemory(): void {
    for (const e of this.#cache.deleteWhere(() => true)) this.#cancelTimer(e.key);
    this.#gauge();
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    this.#unsubscribe();
  }

  async #load(tenantId: string, ns: IndexedNamespace): Promise<CachedIndex> {
    const key = indexCacheKey(tenantId, ns.id);
    const fromArtifact = await this.#fromArtifact(tenantId, ns);
    const { index, lexical } = fromArtifact ?? (await this.#rebuild(tenantId, ns));
    const entry: CachedIndex = { key, tenantId, namespaceId: ns.id, index, lexical, dirty: false, leases: 0 };
    if (fromArtifact?.buffers.length) {
      entry.buffers = fromArtifact.buffers;
      entry.slackBytes = fromArtifact.slackBytes;
    }
    this.#cache.set(entry);
    this.#gauge();
    return entry;
  }

  /** Reads an artifact into pooled memory when the store can (folder), else as the store returns it. */
  #read(key: string): Promise<Uint8Array | null> {
    const { artifacts } = this.o;
    return artifacts.getInto ? artifacts.getInto(key, (size) => this.#buffers.take(size)) : artifacts.get(key);
  }

  /** Returns a buffer `#read` took from the pool; memory a store allocated itself (it may share it) is never pooled. */
  #giveBack(bytes: Uint8Array): void {
    if (this.o.artifacts.getInto) this.#buffers.give(bytes.buffer as ArrayBuffer);
  }

  async #fromArtifact(
    tenantId: string,
    ns: IndexedNamespace,
  ): Promise<{ index: VectorIndex; lexical: LexicalIndex | undefined; buffers: ArrayBuffer[]; slackBytes: number } | undefined> {
    const artifact = indexArtifactKey(tenantId, ns.id, ns.generation);
    const lexicalKey = lexicalArtifactKey(tenantId, ns.id, ns.generation);
    let bytes: Uint8Array | null;
    let lexicalBytes: Uint8Array | null = null;
    try {
      [bytes, lexicalBytes] = await Promise.all([this.#read(artifact), this.#read(lexicalKey).catch(() => null)]);
    } catch (err) {
      this.#corrupt(artifact, err);
      return undefined;
    }
    if (!bytes) {
      if (lexicalBytes) this.#giveBack(lexicalBytes);
      return undefined;
    }
    let lexical: LexicalIndex | undefined;
    try {
      // A missing or unreadable lexical file only costs a background rebuild; Postgres full-text search serves meanwhile.
      if (lexicalBytes) lexical = LexicalIndex.load(lexicalBytes);
      if (lexical && lexical.generation !== ns.generation) lexical = undefined;
    } catch (err) {
      this.#corrupt(lexicalKey, err);
    }
    // Reads the indexes keep views on; the others go back to the pool at once.
    const kept: Uint8Array[] = [];
    if (lexicalBytes) {
      if (lexical) kept.push(lexicalBytes);
      else this.#giveBack(lexicalBytes);
    }
    try {
      const header = readIndexHeader(bytes);
      if (header.generation !== ns.generation || header.dimension !== ns.dimension) {
        this.#corrupt(artifact, new Error(`header says generation ${header.generation}, dimension ${header.dimension}`));
        return undefined;
      }
      // A fresh read nobody else holds (the index may keep views on it instead of copying 3 MB per 2,000 vectors),
      // and, on a sealed store, just verified whole by its envelope (a second crc32 pass would find nothing new).
      const index = loadVectorIndex(bytes, { adopt: true, verified: this.o.artifacts.getSealed !== undefined });
      this.o.metrics.indexLoads.inc({ source: 'artifact' });
      // An exact index keeps views on the bytes; HNSW copied what it needs.
      if (index.kind === 'exact') kept.push(bytes);
      else this.#giveBack(bytes);
      return { index, lexical, ...this.#ownership(kept) };
    } catch (err) {
      this.#corrupt(artifact, err);
      for (const b of kept) this.#giveBack(b);
      return undefined;
    }
  }

  /** The pooled buffers behind the reads an entry keeps, and their bytes past those reads (none unless the store reads into the pool). */
  #ownership(kept: Uint8Array[]): { buffers: ArrayBuffer[]; slackBytes: number } {
    if (!this.o.artifacts.getInto) return { buffers: [], slackBytes: 0 };
    return {
      buffers: kept.map((b) => b.buffer as ArrayBuffer),
      slackBytes: kept.reduce((sum, b) => sum + b.buffer.byteLength - b.byteLength, 0),
    };
  }

  /** The entry has left the cache: once no search holds it, its pooled buffers serve the next loads. */
  #retire(entry: CachedIndex): void {
    entry.retired = true;
    this.#recycle(entry);
  }

  #recycle(entry: CachedIndex): void {
    if (!entry.retired || entry.leases > 0 || !entry.buffers) return;
    const buffers = entry.buffers;
    entry.buffers = undefined;
    for (const b of buffers) this.#buffers.give(b);
  }

  /** The pool of index memory (tests, benchmarks). */
  bufferPoolStats(): ReturnType<BufferPool['stats']> {
    return this.#buffers.stats();
  }

  #corrupt(artifact: string, err: unknown): void {
    this.o.metrics.corruptIndexes.inc();
    this.o.log?.('warn', 'vector index file unusable; rebuilding it from Postgres', { artifact, error: err instanceof Error ? err.message : String(err) });
  }

  /** Reads the namespace's embeddings under RLS and builds the index in a worker, then persists it. */
  async #rebuild(tenantId: string, ns: IndexedNamespace): Promise<{ index: VectorIndex; lexical: LexicalIndex }> {
    const { rows, generation } = await this.o.db.withTenant(tenantId, async (tx) => {
      // Read the generation in the same transaction as the rows, so the pair is consistent.
      const g = await tx.query<{ generation: number | string }>('select generation from rag_namespaces where id = $1', [ns.id]);
      return { rows: await namespaceEmbeddings(tx, ns.id), generation: Number(g.rows[0]?.generation ?? ns.generation) };
    });
    this.o.metrics.indexLoads.inc({ source: 'rebuild' });
    const lexical = LexicalIndex.build(
      generation,
      rows.map((r) => r.label),
      rows.map((r) => r.text),
    );
    const lexicalBytes = lexical.serialize();
    let index: VectorIndex;
    if (rows.length === 0) {
      index = createVectorIndex({ dimension: ns.dimension, generation, kind: 'exact' });
    } else {
      const ids = new Float64Array(rows.length);
      const vectors = new Float32Array(rows.length * ns.dimension);
      rows.forEach((r, i) => {
        ids[i] = r.label;
        decodeEmbeddingInto(r.embedding, vectors, i, ns.dimension);
      });
      const bytes = await this.o.pool.buildIndex({ dimension: ns.dimension, generation, ids, vectors, hnswThreshold: this.#threshold });
      index = loadVectorIndex(bytes);
      this.#track(this.#put(tenantId, ns.id, generation, bytes, lexicalBytes));
      return { index, lexical };
    }
    this.#track(this.#put(tenantId, ns.id, generation, index.serialize(), lexicalBytes));
    return { index, lexical };
  }

  async #upgrade(tenantId: string, ns: IndexedNamespace): Promise<void> {
    const key = indexCacheKey(tenantId, ns.id);
    try {
      const { index, lexical } = await this.#rebuild(tenantId, ns);
      const current = this.#cache.peek(key);
      // Swap only if nothing newer arrived meanwhile; otherwise the next write or query sorts it out.
      if (current && current.index.generation === index.generation) {
        this.#cache.set({ key, tenantId, namespaceId: ns.id, index, lexical, dirty: false, leases: 0 });
        this.#cancelTimer(key);
        this.#gauge();
      } else if (current?.dirty) {
        this.#scheduleWriteBack(current);
      }
    } catch (err) {
      this.o.log?.('error', 'HNSW rebuild failed; the exact index keeps serving', { key, error: err instanceof Error ? err.message : String(err) });
      const current = this.#cache.peek(key);
      if (current?.dirty) this.#scheduleWriteBack(current);
    }
  }

  #scheduleWriteBack(entry: CachedIndex): void {
    this.#cancelTimer(entry.key);
    const timer = setTimeout(() => {
      this.#timers.delete(entry.key);
      if (this.#cache.peek(entry.key) === entry && entry.dirty) this.#track(this.#persist(entry));
    }, this.o.writeBackDelayMs ?? 250);
    timer.unref();
    this.#timers.set(entry.key, timer);
  }

  async #persist(entry: CachedIndex): Promise<void> {
    const generation = entry.index.generation;
    const bytes = entry.index.serialize();
    const lexical = entry.lexical?.generation === generation ? entry.lexical.serialize() : undefined;
    await this.#put(entry.tenantId, entry.namespaceId, generation, bytes, lexical);
    if (entry.index.generation === generation) entry.dirty = false;
  }

  /** Writes one generation and deletes the older ones; failures are logged (Postgres stays the truth). */
  async #put(tenantId: string, namespaceId: string, generation: number, bytes: Uint8Array, lexicalBytes?: Uint8Array): Promise<void> {
    if (this.#closed) return;
    const cacheKey = indexCacheKey(tenantId, namespaceId);
    // Writes of one namespace can finish out of order (write-back, rebuild, upgrade): an older one never outlives a newer.
    if (generation < (this.#newestWritten.get(cacheKey) ?? -1)) return;
    try {
      const key = indexArtifactKey(tenantId, namespaceId, generation);
      const lexicalKey = lexicalArtifactKey(tenantId, namespaceId, generation);
      // The lexical file first: a reader that finds the vector file at this generation finds both.
      if (lexicalBytes) await this.o.artifacts.put(lexicalKey, lexicalBytes);
      await this.o.artifacts.put(key, bytes);
      if (generation < (this.#newestWritten.get(cacheKey) ?? -1)) {
        await this.o.artifacts.delete(key);
        if (lexicalBytes) await this.o.artifacts.delete(lexicalKey);
        return;
      }
      this.#newestWritten.set(cacheKey, generation);
      const prefix = indexArtifactPrefix(tenantId, namespaceId);
      for (const key of await this.o.artifacts.list(prefix)) {
        const version = Number(key.slice(prefix.length).split('/')[0]);
        if (Number.isInteger(version) && version < generation) await this.o.artifacts.delete(key);
      }
    } catch (err) {
      this.o.log?.('warn', 'could not persist a vector index; it will be rebuilt when needed', {
        tenantId,
        namespaceId,
        generation,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** Builds a resident entry's missing lexical index from Postgres (once, however many wait), if the generation still matches. */
  #buildLexical(entry: CachedIndex): Promise<void> {
    const inFlight = this.#lexicalFlights.get(entry.key);
    if (inFlight) return inFlight;
    if (this.#closed) return Promise.resolve();
    const work = (async () => {
      const { rows, generation } = await this.o.db.withTenant(entry.tenantId, async (tx) => {
        const g = await tx.query<{ generation: number | string }>('select generation from rag_namespaces where id = $1', [entry.namespaceId]);
        return { rows: await namespaceTexts(tx, entry.namespaceId), generation: Number(g.rows[0]?.generation ?? -1) };
      });
      if (this.#cache.peek(entry.key) !== entry || entry.index.generation !== generation || entry.lexical?.generation === generation) return;
      entry.lexical = LexicalIndex.build(
        generation,
        rows.map((r) => r.label),
        rows.map((r) => r.text),
      );
      this.#cache.resized(entry);
      this.#gauge();
      entry.dirty = true;
      this.#scheduleWriteBack(entry);
    })()
      .catch((err: unknown) => this.o.log?.('warn', 'could not build a lexical index; full-text search serves meanwhile', { key: entry.key, error: String(err) }))
      .finally(() => this.#lexicalFlights.delete(entry.key));
    this.#lexicalFlights.set(entry.key, work);
    this.#track(work);
    return work;
  }

  #track(work: Promise<void>): void {
    this.#writes.add(work);
    void work.finally(() => this.#writes.delete(work));
  }

  #drop(key: string): void {
    this.#cache.delete(key);
    this.#cancelTimer(key);
    this.#gauge();
  }

  #cancelTimer(key: string): void {
    const t = this.#timers.get(key);
    if (t) clearTimeout(t);
    this.#timers.delete(key);
  }

  #gauge(): void {
    this.o.metrics.indexCacheBytes.set(this.#cache.residentBytes);
  }
}
