import { errors } from '../../errors.js';
import { ExactIndex } from './exact-index.js';
import { type HnswOptions, HnswIndex } from './hnsw-index.js';
import { type DecodeIndexOptions, readIndexHeader } from './index-format.js';
import type { VectorIndex, VectorIndexKind } from './vector-index.js';

/**
 * Namespaces with fewer vectors use the exact scan. Measured by
 * `npm run bench -- rag-index` (384 dimensions): the scan's median stays under
 * 1 ms up to ~4,200 vectors; below that its cost is negligible next to the
 * 15 ms query budget, while HNSW doubles memory, needs a worker build and
 * gives up recall. See README for the figures.
 */
export const HNSW_THRESHOLD = 4_096;

/** How to make a new index; `kind: 'auto'` picks by `expectedSize`. */
export interface VectorIndexOptions {
  dimension: number;
  generation?: number;
  kind?: VectorIndexKind | 'auto';
  /** Vectors the index will hold soon (for `auto`). */
  expectedSize?: number;
  hnsw?: HnswOptions;
  /** Overrides `HNSW_THRESHOLD` (tests, tuning). */
  hnswThreshold?: number;
}

/** The index kind for a namespace of `count` vectors. */
export function chooseIndexKind(count: number, threshold = HNSW_THRESHOLD): VectorIndexKind {
  return count >= threshold ? 'hnsw' : 'exact';
}

/** An empty index of the requested or chosen kind. */
export function createVectorIndex(options: VectorIndexOptions): VectorIndex {
  const kind = resolveKind(options, options.expectedSize ?? 0);
  return kind === 'exact' ? new ExactIndex(options.dimension, options.generation ?? 0) : HnswIndex.create(options.dimension, options.generation ?? 0, options.hnsw);
}

/** Flat input for a batch build: `vectors.length === ids.length × dimension`. */
export interface IndexBuildInput {
  dimension: number;
  generation: number;
  ids: Float64Array;
  vectors: Float32Array;
  kind?: VectorIndexKind | 'auto';
  hnsw?: HnswOptions;
  hnswThreshold?: number;
}

/** Builds a full index in one batch. CPU-heavy for HNSW: call it from a worker (`buildIndexBytes`). */
export function buildVectorIndex(input: IndexBuildInput): VectorIndex {
  const kind = resolveKind(input, input.ids.length);
  return kind === 'exact'
    ? ExactIndex.fromArrays(input.dimension, input.generation, input.ids, input.vectors)
    : HnswIndex.build(input.dimension, input.generation, input.ids, input.vectors, input.hnsw);
}

/**
 * Restores any persisted index, choosing the implementation from its header;
 * corrupt bytes throw `CorruptIndexError`. `adopt`: the bytes are the caller's
 * to give away (a fresh read), so an exact index may keep views on them
 * instead of copying; HNSW always copies, so the graph's bytes are not pinned.
 * `verified`: the bytes passed the artifact store's envelope checksum just now (see `DecodeIndexOptions`).
 */
export function loadVectorIndex(bytes: Uint8Array, options: { hnsw?: HnswOptions } & DecodeIndexOptions = {}): VectorIndex {
  const header = readIndexHeader(bytes);
  const decode = { adopt: options.adopt ?? false, verified: options.verified ?? false };
  return header.kind === 'exact' ? ExactIndex.load(bytes, decode) : HnswIndex.load(bytes, options.hnsw, decode);
}

function resolveKind(options: { kind?: VectorIndexKind | 'auto'; hnswThreshold?: number; dimension: number }, count: number): VectorIndexKind {
  if (!Number.isInteger(options.dimension) || options.dimension < 1) throw errors.validation('index dimension must be a positive integer');
  const kind = options.kind ?? 'auto';
  return kind === 'auto' ? chooseIndexKind(count, options.hnswThreshold) : kind;
}
