import { errors } from '../../errors.js';
import { type DecodeIndexOptions, decodeIndex, encodeIndex } from './index-format.js';
import { firstRepeated } from './first-repeated.js';
import { TopK } from './top-k.js';
import type { SearchHit, VectorIndex } from './vector-index.js';

/** Above this share of non-zero query components, the dense loop is faster (see `sparseQuery`). */
const SPARSE_QUERY_MAX_DENSITY = 0.4;

/** Approximate bytes per Map entry (key, value, hash slot) in V8. */
const MAP_ENTRY_BYTES = 40;

/**
 * Brute-force index over one flat Float32Array: exact results, O(n·d) per
 * query, fastest below the measured HNSW threshold (see README). Also the
 * vector store inside the HNSW index, where it serves filtered fallbacks,
 * rebuilds and persistence.
 */
export class ExactIndex implements VectorIndex {
  readonly kind = 'exact' as const;
  generation: number;
  #ids: Float64Array;
  #vectors: Float32Array;
  #size = 0;
  /**
   * id → slot, built on first need (writes, `has`, `vector`): a search does
   * not need it, and a cold load that skips it leaves no Map of thousands of
   * entries to promote and later collect (old-space garbage that paced the
   * major GCs of cold queries).
   */
  #slotMap: Map<number, number> | undefined = new Map();

  constructor(readonly dimension: number, generation = 0, capacity = 64) {
    if (!Number.isInteger(dimension) || dimension < 1) throw errors.validation('index dimension must be a positive integer');
    this.generation = generation;
    this.#ids = new Float64Array(capacity);
    this.#vectors = new Float32Array(capacity * dimension);
  }

  /** Restores an exact index from `serialize()` output, verifying checksums; with `adopt` it keeps views on `bytes` (the caller must not use them afterwards). */
  static load(bytes: Uint8Array, options: DecodeIndexOptions = {}): ExactIndex {
    const { header, ids, vectors } = decodeIndex(bytes, options);
    return ExactIndex.adopt(header.dimension, header.generation, ids, vectors);
  }

  /**
   * An index that takes `ids` and `vectors` as its storage, without copying
   * (a cold load then allocates the vectors once, not twice). The caller must
   * not use the arrays afterwards; duplicate ids are an error.
   */
  static adopt(dimension: number, generation: number, ids: Float64Array, vectors: Float32Array): ExactIndex {
    if (vectors.length !== ids.length * dimension) throw errors.validation(`expected ${ids.length * dimension} vector values, got ${vectors.length}`);
    const index = new ExactIndex(dimension, generation, 0);
    for (let slot = 0; slot < ids.length; slot++) checkId(ids[slot]!);
    const repeated = firstRepeated(ids);
    if (repeated !== undefined) throw errors.validation(`index id ${repeated} appears twice`);
    index.#slotMap = undefined;
    index.#ids = ids;
    index.#vectors = vectors;
    index.#size = ids.length;
    return index;
  }

  /** Builds an index from parallel arrays (flat vectors, `ids.length × dimension`). */
  static fromArrays(dimension: number, generation: number, ids: ArrayLike<number>, vectors: Float32Array): ExactIndex {
    if (vectors.length !== ids.length * dimension) throw errors.validation(`expected ${ids.length * dimension} vector values, got ${vectors.length}`);
    const index = new ExactIndex(dimension, generation, Math.max(64, ids.length));
    for (let i = 0; i < ids.length; i++) index.#put(ids[i]!, vectors, i * dimension);
    return index;
  }

  get size(): number {
    return this.#size;
  }

  get sizeBytes(): number {
    return this.#vectors.byteLength + this.#ids.byteLength + (this.#slotMap?.size ?? 0) * MAP_ENTRY_BYTES;
  }

  has(id: number): boolean {
    return this.#slots().has(id);
  }

  #slots(): Map<number, number> {
    if (this.#slotMap) return this.#slotMap;
    const map = new Map<number, number>();
    for (let slot = 0; slot < this.#size; slot++) map.set(this.#ids[slot]!, slot);
    this.#slotMap = map;
    return map;
  }

  add(ids: readonly number[], vectors: readonly Float32Array[]): void {
    if (ids.length !== vectors.length) throw errors.validation(`${ids.length} ids but ${vectors.length} vectors`);
    for (let i = 0; i < ids.length; i++) {
      const v = vectors[i]!;
      if (v.length !== this.dimension) throw errors.validation(`vector of length ${v.length} added to a ${this.dimension}-dimensional index`);
      checkId(ids[i]!);
    }
    for (let i = 0; i < ids.length; i++) this.#put(ids[i]!, vectors[i]!, 0);
  }

  remove(ids: readonly number[]): number {
    let removed = 0;
    const d = this.dimension;
    const slots = this.#slots();
    for (const id of ids) {
      const slot = slots.get(id);
      if (slot === undefined) continue;
      const last = this.#size - 1;
      // Swap the last vector into the hole so the array stays dense.
      if (slot !== last) {
        const lastId = this.#ids[last]!;
        this.#ids[slot] = lastId;
        this.#vectors.copyWithin(slot * d, last * d, last * d + d);
        slots.set(lastId, slot);
      }
      slots.delete(id);
      this.#size = last;
      removed++;
    }
    return removed;
  }

  search(query: Float32Array, k: number, filter?: (id: number) => boolean): SearchHit[] {
    if (query.length !== this.dimension) throw errors.validation(`query of length ${query.length} for a ${this.dimension}-dimensional index`);
    const top = new TopK(Math.min(k, this.#size));
    const sparse = sparseQuery(query);
    if (sparse) this.#scanSparse(sparse.at, sparse.values, top, filter);
    else this.#scanDense(query, top, filter);
    return top.hits();
  }

  #scanDense(query: Float32Array, top: TopK, filter: ((id: number) => boolean) | undefined): void {
    const d = this.dimension;
    const vs = this.#vectors;
    const ids = this.#ids;
    for (let slot = 0; slot < this.#size; slot++) {
      const id = ids[slot]!;
      if (filter && !filter(id)) continue;
      const base = slot * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = 0;
      // Four accumulators break the dependency chain; measurably faster in V8.
      for (; j + 3 < d; j += 4) {
        s0 += vs[base + j]! * query[j]!;
        s1 += vs[base + j + 1]! * query[j + 1]!;
        s2 += vs[base + j + 2]! * query[j + 2]!;
        s3 += vs[base + j + 3]! * query[j + 3]!;
      }
      for (; j < d; j++) s0 += vs[base + j]! * query[j]!;
      const score = s0 + s1 + s2 + s3;
      if (score >= top.threshold) top.push(id, score);
    }
  }

  /** The dot products over the query's non-zero components only (hashed embeddings of short questions: about a third). */
  #scanSparse(at: Int32Array, values: Float32Array, top: TopK, filter: ((id: number) => boolean) | undefined): void {
    const d = this.dimension;
    const vs = this.#vectors;
    const ids = this.#ids;
    const n = at.length;
    for (let slot = 0; slot < this.#size; slot++) {
      const id = ids[slot]!;
      if (filter && !filter(id)) continue;
      const base = slot * d;
      let s0 = 0;
      let s1 = 0;
      let j = 0;
      for (; j + 1 < n; j += 2) {
        s0 += vs[base + at[j]!]! * values[j]!;
        s1 += vs[base + at[j + 1]!]! * values[j + 1]!;
      }
      if (j < n) s0 += vs[base + at[j]!]! * values[j]!;
      const score = s0 + s1;
      if (score >= top.threshold) top.push(id, score);
    }
  }

  /** How many stored ids a filter accepts. */
  countMatching(filter: (id: number) => boolean): number {
    let n = 0;
    for (let slot = 0; slot < this.#size; slot++) if (filter(this.#ids[slot]!)) n++;
    return n;
  }

  /** A copy of the vector stored for an id, or undefined. */
  vector(id: number): Float32Array | undefined {
    const slot = this.#slots().get(id);
    return slot === undefined ? undefined : this.#vectors.slice(slot * this.dimension, (slot + 1) * this.dimension);
  }

  /** Dense copies of ids and flat vectors, e.g. to send to a build worker. */
  toArrays(): { ids: Float64Array; vectors: Float32Array } {
    return { ids: this.#ids.slice(0, this.#size), vectors: this.#vectors.slice(0, this.#size * this.dimension) };
  }

  serialize(): Uint8Array {
    return encodeIndex('exact', this.dimension, this.generation, this.#ids.subarray(0, this.#size), this.#vectors.subarray(0, this.#size * this.dimension));
  }

  #put(id: number, source: Float32Array, offset: number): void {
    const d = this.dimension;
    const slots = this.#slots();
    let slot = slots.get(id);
    if (slot === undefined) {
      if (this.#size === this.#ids.length) this.#grow();
      slot = this.#size++;
      slots.set(id, slot);
      this.#ids[slot] = id;
    }
    this.#vectors.set(source.subarray(offset, offset + d), slot * d);
  }

  #grow(): void {
    const capacity = Math.max(64, this.#ids.length * 2);
    const ids = new Float64Array(capacity);
    ids.set(this.#ids);
    const vectors = new Float32Array(capacity * this.dimension);
    vectors.set(this.#vectors);
    this.#ids = ids;
    this.#vectors = vectors;
  }
}

/**
 * The query's non-zero components (positions and values) when they are few
 * enough for a gather loop to beat the dense one (under 40% of the dimension,
 * measured), else undefined. Skipping exact zeros changes no score.
 */
function sparseQuery(query: Float32Array): { at: Int32Array; values: Float32Array } | undefined {
  let nonZero = 0;
  for (let j = 0; j < query.length; j++) if (query[j] !== 0) nonZero++;
  if (nonZero >= query.length * SPARSE_QUERY_MAX_DENSITY) return undefined;
  const at = new Int32Array(nonZero);
  const values = new Float32Array(nonZero);
  for (let j = 0, i = 0; j < query.length; j++) {
    if (query[j] === 0) continue;
    at[i] = j;
    values[i++] = query[j]!;
  }
  return { at, values };
}

/** Ids are storage labels: non-negative safe integers (they become usearch's u64 keys). */
export function checkId(id: number): void {
  if (!Number.isSafeInteger(id) || id < 0) throw errors.validation(`index id ${id} is not a non-negative safe integer`);
}
