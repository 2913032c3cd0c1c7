import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricKind, ScalarKind, Index as UsearchIndex } from 'usearch';
import { errors } from '../../errors.js';
import { ExactIndex, checkId } from './exact-index.js';
import { CorruptIndexError, decodeIndex, encodeIndex } from './index-format.js';
import type { SearchHit, VectorIndex } from './vector-index.js';

/** Graph parameters; defaults measured in bench/rag-index.ts for recall@10 ≥ 0.95. */
export interface HnswOptions {
  /** Edges per node (usearch `connectivity`, HNSW's M). Default 32. */
  connectivity?: number;
  /** Candidate list size while inserting (efConstruction). Default 128. */
  expansionAdd?: number;
  /** Smallest candidate list while searching (ef). Default 96; grows with the index (`searchExpansion`). */
  expansionSearch?: number;
}

/** ef grows by one per this many vectors past the configured floor… */
const VECTORS_PER_EXPANSION = 100;
/** …up to this ceiling. */
const MAX_EXPANSION = 512;

/**
 * The candidate list a search uses at this index size. A fixed ef loses recall
 * as the graph grows (0.90 at 20,000 real-text vectors with ef 96, M 16;
 * bench/rag-index.ts): size/100 keeps recall@10 ≥ 0.95 through 32,000.
 */
export function searchExpansion(size: number, floor: number): number {
  return Math.max(floor, Math.min(MAX_EXPANSION, Math.ceil(size / VECTORS_PER_EXPANSION)));
}

/** Below this share of matching ids, a filtered search scans the matches exactly. */
const EXACT_FILTER_SELECTIVITY = 0.1;

/**
 * Approximate index: a usearch HNSW graph (inner product on unit vectors) next
 * to an `ExactIndex` holding the same vectors. The copy costs memory but makes
 * filtered search exact when a filter is selective, lets a graph be rebuilt
 * from the index itself, and keeps the persisted form verifiable.
 */
export class HnswIndex implements VectorIndex {
  readonly kind = 'hnsw' as const;
  readonly #store: ExactIndex;
  readonly #graph: UsearchIndex;
  readonly #options: Required<HnswOptions>;

  private constructor(store: ExactIndex, graph: UsearchIndex, options: Required<HnswOptions>) {
    this.#store = store;
    this.#graph = graph;
    this.#options = options;
  }

  /** An empty HNSW index. */
  static create(dimension: number, generation = 0, options: HnswOptions = {}): HnswIndex {
    const opts = withDefaults(options);
    return new HnswIndex(new ExactIndex(dimension, generation), newGraph(dimension, opts), opts);
  }

  /** Builds the graph over parallel arrays in one batch (CPU-heavy: run it in a worker). */
  static build(dimension: number, generation: number, ids: ArrayLike<number>, vectors: Float32Array, options: HnswOptions = {}): HnswIndex {
    const store = ExactIndex.fromArrays(dimension, generation, ids, vectors);
    const opts = withDefaults(options);
    const graph = newGraph(dimension, opts);
    const arrays = store.toArrays();
    if (arrays.ids.length > 0) graph.add(BigUint64Array.from(arrays.ids, (id) => BigInt(id)), arrays.vectors, 1);
    return new HnswIndex(store, graph, opts);
  }

  /** Restores from `serialize()` output; a damaged graph section is a `CorruptIndexError`. */
  static load(bytes: Uint8Array, options: HnswOptions = {}, decode: { verified?: boolean } = {}): HnswIndex {
    const { header, ids, vectors, extra } = decodeIndex(bytes, { verified: decode.verified ?? false });
    if (header.kind !== 'hnsw') throw new CorruptIndexError(`expected an hnsw index, found ${header.kind}`);
    const store = ExactIndex.adopt(header.dimension, header.generation, ids, vectors);
    const opts = withDefaults(options);
    checkGraphSection(extra, header.count, header.dimension);
    const graph = newGraph(header.dimension, opts);
    // usearch only loads from files; the bytes were checksummed above.
    const path = join(tmpdir(), `tenantml-hnsw-${randomUUID()}.usearch`);
    try {
      writeFileSync(path, extra);
      graph.load(path);
    } catch (err) {
      throw new CorruptIndexError(`graph section unreadable (${err instanceof Error ? err.message : String(err)})`);
    } finally {
      rmSync(path, { force: true });
    }
    if (graph.size() !== store.size) throw new CorruptIndexError(`graph holds ${graph.size()} vectors, store ${store.size}`);
    return new HnswIndex(store, graph, opts);
  }

  get dimension(): number {
    return this.#store.dimension;
  }

  get generation(): number {
    return this.#store.generation;
  }

  set generation(value: number) {
    this.#store.generation = value;
  }

  get size(): number {
    return this.#store.size;
  }

  get sizeBytes(): number {
    // usearch exposes no memory figure: its f32 vectors plus ~2·M neighbour slots of 4 bytes per level-0 node.
    const graphBytes = this.#graph.size() * (this.dimension * 4 + this.#options.connectivity * 2 * 4 + 32);
    return this.#store.sizeBytes + graphBytes;
  }

  has(id: number): boolean {
    return this.#store.has(id);
  }

  add(ids: readonly number[], vectors: readonly Float32Array[]): void {
    this.#store.add(ids, vectors);
    ids.forEach(checkId);
    const replaced = ids.filter((id) => this.#graph.contains(BigInt(id)) === true);
    if (replaced.length > 0) this.#graph.remove(replaced.map((id) => BigInt(id)));
    const flat = new Float32Array(ids.length * this.dimension);
    vectors.forEach((v, i) => {
      flat.set(v, i * this.dimension);
    });
    if (ids.length > 0) this.#graph.add(BigUint64Array.from(ids, (id) => BigInt(id)), flat, 1);
  }

  remove(ids: readonly number[]): number {
    const present = ids.filter((id) => this.#store.has(id));
    if (present.length > 0) this.#graph.remove(present.map((id) => BigInt(id)));
    return this.#store.remove(present);
  }

  search(query: Float32Array, k: number, filter?: (id: number) => boolean): SearchHit[] {
    if (query.length !== this.dimension) throw errors.validation(`query of length ${query.length} for a ${this.dimension}-dimensional index`);
    const size = this.size;
    if (k <= 0 || size === 0) return [];
    if (!filter) return this.#graphSearch(query, Math.min(k, size));

    // Count the matches first: a selective filter is served exactly from the
    // matching vectors; a broad one over-fetches from the graph and widens.
    const matching = this.#store.countMatching(filter);
    if (matching === 0) return [];
    const want = Math.min(k, matching);
    if (matching <= k || matching / size < EXACT_FILTER_SELECTIVITY) return this.#store.search(query, want, filter);
    let fetch = Math.min(size, Math.ceil((want * size) / matching) * 2 + 10);
    for (;;) {
      const hits = this.#graphSearch(query, fetch).filter((h) => filter(h.id));
      if (hits.length >= want) return hits.slice(0, want);
      if (fetch >= size / 2) return this.#store.search(query, want, filter);
      fetch = Math.min(size, fetch * 4);
    }
  }

  serialize(): Uint8Array {
    const { ids, vectors } = this.#store.toArrays();
    const path = join(tmpdir(), `tenantml-hnsw-${randomUUID()}.usearch`);
    try {
      this.#graph.save(path);
      return encodeIndex('hnsw', this.dimension, this.generation, ids, vectors, readFileSync(path));
    } finally {
      rmSync(path, { force: true });
    }
  }

  #graphSearch(query: Float32Array, k: number): SearchHit[] {
    // A fresh copy: usearch misreads typed-array views with a byte offset.
    const q = query.byteOffset === 0 && query.length === query.buffer.byteLength / 4 ? query : query.slice();
    // usearch's ef is fixed when the graph is made; asking for more results widens the search the same way.
    const fetch = Math.min(this.size, Math.max(k, searchExpansion(this.size, this.#options.expansionSearch)));
    const m = this.#graph.search(q, fetch, 1);
    const hits: SearchHit[] = [];
    for (let i = 0; i < m.keys.length; i++) hits.push({ id: Number(m.keys[i]!), score: 1 - m.distances[i]! });
    // usearch orders by distance; re-sort so equal scores order by id like the exact index.
    hits.sort((a, b) => b.score - a.score || a.id - b.id);
    return hits.length > k ? hits.slice(0, k) : hits;
  }
}

/**
 * usearch trusts its files and crashes the process on garbage, so check the
 * layout it writes (rows u32, row bytes u32, the vectors, then "usearch")
 * first. The checksum already guards against damage; this guards against bugs.
 */
function checkGraphSection(bytes: Uint8Array, count: number, dimension: number): void {
  if (bytes.length < 8) throw new CorruptIndexError('graph section missing');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const rows = view.getUint32(0, true);
  const rowBytes = view.getUint32(4, true);
  // Removed entries keep their rows until a rebuild, so rows may exceed count.
  if (rows < count || rowBytes !== dimension * 4) throw new CorruptIndexError(`graph holds ${rows} vectors of ${rowBytes} bytes, store ${count} of ${dimension * 4}`);
  const magicAt = 8 + rows * rowBytes;
  const magic = new TextDecoder('latin1').decode(bytes.subarray(magicAt, magicAt + 7));
  if (magic !== 'usearch') throw new CorruptIndexError('graph section has no usearch header');
}

function withDefaults(options: HnswOptions): Required<HnswOptions> {
  return { connectivity: options.connectivity ?? 32, expansionAdd: options.expansionAdd ?? 128, expansionSearch: options.expansionSearch ?? 96 };
}

function newGraph(dimension: number, o: Required<HnswOptions>): UsearchIndex {
  return new UsearchIndex({
    dimensions: dimension,
    metric: MetricKind.IP,
    quantization: ScalarKind.F32,
    connectivity: o.connectivity,
    expansion_add: o.expansionAdd,
    expansion_search: o.expansionSearch,
    multi: false,
  });
}
