/**
 * The per-(tenant, namespace) nearest-neighbour index. Ids are the integer
 * labels the storage layer gives chunks (safe integers); vectors are unit
 * length, so the score is the dot product (cosine similarity).
 */

/** One search result: the chunk label and its cosine similarity. */
export interface SearchHit {
  id: number;
  score: number;
}

/** The two implementations; `exact` scans, `hnsw` walks a usearch graph. */
export type VectorIndexKind = 'exact' | 'hnsw';

/** A mutable in-memory vector index that can be persisted as bytes. */
export interface VectorIndex {
  readonly kind: VectorIndexKind;
  readonly dimension: number;
  /**
   * The storage's write generation this index reflects; written into
   * `serialize()` so a loaded index can be checked against the database.
   */
  generation: number;
  /** Number of vectors held. */
  readonly size: number;
  /** Approximate resident memory, for the cache's budget. */
  readonly sizeBytes: number;
  /** Inserts or replaces (upsert) the vectors of these ids. */
  add(ids: readonly number[], vectors: readonly Float32Array[]): void;
  /** Removes these ids; unknown ids are ignored. Returns how many were removed. */
  remove(ids: readonly number[]): number;
  /** Whether an id is present. */
  has(id: number): boolean;
  /**
   * The k best hits, best first (ties by smaller id). With a filter, only ids
   * it accepts are returned, and still k of them whenever k exist.
   */
  search(query: Float32Array, k: number, filter?: (id: number) => boolean): SearchHit[];
  /** The persisted form: header (format version, kind, generation, dimension, count, checksums) + payload. */
  serialize(): Uint8Array;
}
