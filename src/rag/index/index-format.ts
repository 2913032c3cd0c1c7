import { crc32 } from 'node:zlib';
import { AppError, errors } from '../../errors.js';
import type { VectorIndexKind } from './vector-index.js';

/**
 * Byte layout of a persisted index (little-endian):
 *
 *   0  magic "TMVX"          4  format version u16   6  kind u8 (1 exact, 2 hnsw)   7  reserved
 *   8  dimension u32        12  count u32           16  generation u64
 *  24  payload length u32   28  payload crc32 u32   32  header crc32 u32 (bytes 0–31)   36  reserved
 *  40  payload: ids (f64 × count), vectors (f32 × count × dimension), then kind-specific bytes
 *
 * Ids are stored as f64 (exact for safe integers) so both arrays stay aligned.
 */
export const INDEX_FORMAT_VERSION = 1;
export const INDEX_HEADER_BYTES = 40;
const MAGIC = 0x58564d54; // "TMVX" read as little-endian u32

/** The fields of a persisted index's header. */
export interface IndexHeader {
  formatVersion: number;
  kind: VectorIndexKind;
  dimension: number;
  count: number;
  generation: number;
  payloadLength: number;
}

/** The decoded payload common to every kind, plus the kind-specific tail. */
export interface IndexPayload {
  header: IndexHeader;
  ids: Float64Array;
  vectors: Float32Array;
  extra: Uint8Array;
}

/** Writes header + ids + vectors + extra into one buffer. */
export function encodeIndex(kind: VectorIndexKind, dimension: number, generation: number, ids: Float64Array, vectors: Float32Array, extra: Uint8Array = new Uint8Array()): Uint8Array {
  const count = ids.length;
  const payloadLength = count * 8 + count * dimension * 4 + extra.length;
  if (payloadLength > 0xffffffff) throw errors.validation('vector index is too large to persist (over 4 GiB)');
  const out = new Uint8Array(INDEX_HEADER_BYTES + payloadLength);
  const payload = out.subarray(INDEX_HEADER_BYTES);
  payload.set(new Uint8Array(ids.buffer, ids.byteOffset, count * 8), 0);
  payload.set(new Uint8Array(vectors.buffer, vectors.byteOffset, count * dimension * 4), count * 8);
  payload.set(extra, count * 8 + count * dimension * 4);
  const view = new DataView(out.buffer, out.byteOffset, INDEX_HEADER_BYTES);
  view.setUint32(0, MAGIC, true);
  view.setUint16(4, INDEX_FORMAT_VERSION, true);
  view.setUint8(6, kind === 'exact' ? 1 : 2);
  view.setUint32(8, dimension, true);
  view.setUint32(12, count, true);
  view.setBigUint64(16, BigInt(generation), true);
  view.setUint32(24, payloadLength, true);
  view.setUint32(28, crc32(payload), true);
  view.setUint32(32, crc32(out.subarray(0, 32)), true);
  return out;
}

/** Reads and verifies only the header (cheap: lets a cache check the generation). */
export function readIndexHeader(bytes: Uint8Array): IndexHeader {
  if (bytes.length < INDEX_HEADER_BYTES) throw corrupt(`${bytes.length} bytes is shorter than the header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, INDEX_HEADER_BYTES);
  if (view.getUint32(0, true) !== MAGIC) throw corrupt('bad magic number');
  if (view.getUint32(32, true) !== crc32(bytes.subarray(0, 32))) throw corrupt('header checksum mismatch');
  const formatVersion = view.getUint16(4, true);
  if (formatVersion !== INDEX_FORMAT_VERSION) throw corrupt(`unsupported format version ${formatVersion}`);
  const kindByte = view.getUint8(6);
  if (kindByte !== 1 && kindByte !== 2) throw corrupt(`unknown index kind ${kindByte}`);
  return {
    formatVersion,
    kind: kindByte === 1 ? 'exact' : 'hnsw',
    dimension: view.getUint32(8, true),
    count: view.getUint32(12, true),
    generation: Number(view.getBigUint64(16, true)),
    payloadLength: view.getUint32(24, true),
  };
}

/** How `decodeIndex` may treat its input. */
export interface DecodeIndexOptions {
  /** The bytes are the caller's to give away (a fresh read): return views on them instead of copies when aligned. */
  adopt?: boolean;
  /**
   * The bytes were just verified whole by the artifact store's envelope
   * checksum, so the payload crc32 would check them a second time: skip it.
   * The header checksum is still read.
   */
  verified?: boolean;
}

/**
 * Verifies header and payload checksum, and copies out ids and vectors; with
 * `adopt` (for bytes nobody else will touch, such as a fresh read of the
 * artifact) it returns views on `bytes` instead when they are aligned, so a
 * cold load allocates the vectors once (the read), not twice.
 */
export function decodeIndex(bytes: Uint8Array, options: DecodeIndexOptions = {}): IndexPayload {
  const header = readIndexHeader(bytes);
  const { count, dimension, payloadLength } = header;
  if (bytes.length !== INDEX_HEADER_BYTES + payloadLength) {
    throw corrupt(`expected ${INDEX_HEADER_BYTES + payloadLength} bytes, got ${bytes.length} (truncated?)`);
  }
  const payload = bytes.subarray(INDEX_HEADER_BYTES);
  const stored = new DataView(bytes.buffer, bytes.byteOffset, INDEX_HEADER_BYTES).getUint32(28, true);
  if (!options.verified && crc32(payload) !== stored) throw corrupt('payload checksum mismatch');
  const vectorBytes = count * dimension * 4;
  if (count * 8 + vectorBytes > payloadLength) throw corrupt('count and dimension do not fit the payload');
  if (options.adopt && payload.byteOffset % 8 === 0) {
    const ids = new Float64Array(payload.buffer, payload.byteOffset, count);
    const vectors = new Float32Array(payload.buffer, payload.byteOffset + count * 8, count * dimension);
    return { header, ids, vectors, extra: payload.subarray(count * 8 + vectorBytes) };
  }
  // Copies, so the arrays are aligned and do not pin the (possibly large) input buffer.
  const ids = new Float64Array(payload.slice(0, count * 8).buffer);
  const vectors = new Float32Array(payload.slice(count * 8, count * 8 + vectorBytes).buffer);
  return { header, ids, vectors, extra: payload.subarray(count * 8 + vectorBytes) };
}

/**
 * Persisted index bytes failed verification. An internal error (the caller did
 * nothing wrong): the owner of the index should rebuild it from the embeddings.
 */
export class CorruptIndexError extends AppError {
  constructor(reason: string) {
    super('internal', `vector index data is corrupt: ${reason}; rebuild it from the stored embeddings`, { details: { reason } });
    this.name = 'CorruptIndexError';
  }
}

function corrupt(reason: string): CorruptIndexError {
  return new CorruptIndexError(reason);
}
