/**
 * Embeddings are stored as `bytea`: float32, little-endian, `dimension × 4`
 * bytes. Compact (a quarter of `real[]`'s text form on the wire) and decoded
 * with one copy; PGlite has no pgvector, and the vector search runs in the
 * index cache anyway.
 */
import { errors } from '../../errors.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes to store for one vector. */
export function encodeEmbedding(vector: Float32Array): Buffer {
  if (!LITTLE_ENDIAN) throw new Error('big-endian hosts are not supported for embedding storage');
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** A stored vector back as a Float32Array of `dimension` values (copied, so it is aligned). */
export function decodeEmbedding(bytes: Uint8Array, dimension: number): Float32Array {
  if (bytes.byteLength !== dimension * 4) {
    throw errors.validation(`stored embedding has ${bytes.byteLength} bytes; expected ${dimension * 4}`);
  }
  const out = new Float32Array(dimension);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Appends a stored vector into a flat array at row `row` (for index builds). */
export function decodeEmbeddingInto(bytes: Uint8Array, target: Float32Array, row: number, dimension: number): void {
  if (bytes.byteLength !== dimension * 4) {
    throw errors.validation(`stored embedding has ${bytes.byteLength} bytes; expected ${dimension * 4}`);
  }
  new Uint8Array(target.buffer, target.byteOffset + row * dimension * 4, dimension * 4).set(bytes);
}
