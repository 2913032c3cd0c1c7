/**
 * Byte layout of a persisted lexical index (little-endian), format 3:
 *
 *   0  magic "TMLX"    4  format version u32     8  generation f64
 *  16  chunks n u32   20  terms u32             24  posting entries u32 (slot, tf pairs)
 *  28  term occurrences u32 (sum of lengths)     32  vocabulary bytes u32   36  hash table slots u32
 *  40  reserved (8 bytes)
 *  48  labels f64 × n | lengths u32 × n | term sequences u32 × occurrences
 *      | vocabulary offsets u32 × (terms + 1) | posting offsets u32 × (terms + 1)
 *      | postings u32 × 2·entries | term hash table u32 × slots | vocabulary UTF-8 bytes
 *
 * Every array starts on a multiple of its element size when the file does on
 * a multiple of 8 (the artifact store's envelope keeps that), so loading takes
 * views on the file's bytes instead of building anything. Format 2 (a term
 * string and an array per term) is refused like a damaged file: the caller
 * rebuilds from Postgres.
 */
import { TermTable } from './term-table.js';

const MAGIC = 0x584c4d54; // "TMLX" little-endian
export const LEXICAL_FORMAT_VERSION = 3;
const HEADER_BYTES = 48;

/** The arrays of a packed lexical index, every chunk live. */
export interface PackedLexicalIndex {
  generation: number;
  labels: Float64Array;
  lengths: Uint32Array;
  /** Every chunk's hashed terms in order, back to back (chunk i's are `lengths[i]` long). */
  sequences: Uint32Array;
  terms: TermTable;
  /** Term t's postings are `postings[postingStart[t], postingStart[t + 1])`. */
  postingStart: Uint32Array;
  postings: Uint32Array;
}

/** Writes the packed arrays into one buffer. */
export function encodeLexicalIndex(p: PackedLexicalIndex): Uint8Array {
  const n = p.labels.length;
  const { vocabulary, offsets, table } = p.terms;
  const parts: ArrayBufferView[] = [p.labels, p.lengths, p.sequences, offsets, p.postingStart, p.postings, table, vocabulary];
  const size = parts.reduce((sum, a) => sum + a.byteLength, HEADER_BYTES);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, LEXICAL_FORMAT_VERSION, true);
  view.setFloat64(8, p.generation, true);
  view.setUint32(16, n, true);
  view.setUint32(20, p.terms.count, true);
  view.setUint32(24, p.postings.length / 2, true);
  view.setUint32(28, p.sequences.length, true);
  view.setUint32(32, vocabulary.length, true);
  view.setUint32(36, table.length, true);
  let at = HEADER_BYTES;
  for (const a of parts) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  return out;
}

/** Views on `bytes` (copied first only if misaligned), checked so that no read can leave its array. Throws on anything malformed. */
export function decodeLexicalIndex(bytes: Uint8Array): PackedLexicalIndex {
  if (bytes.length < HEADER_BYTES) throw new Error('lexical index: too short');
  const own = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const view = new DataView(own.buffer, own.byteOffset, own.length);
  if (view.getUint32(0, true) !== MAGIC) throw new Error('lexical index: bad magic');
  const version = view.getUint32(4, true);
  if (version !== LEXICAL_FORMAT_VERSION) throw new Error(`lexical index: format version ${version}, expected ${LEXICAL_FORMAT_VERSION}`);
  const n = view.getUint32(16, true);
  const termCount = view.getUint32(20, true);
  const entries = view.getUint32(24, true);
  const occurrences = view.getUint32(28, true);
  const vocabularyBytes = view.getUint32(32, true);
  const tableSlots = view.getUint32(36, true);
  const expected = HEADER_BYTES + n * 12 + occurrences * 4 + (termCount + 1) * 8 + entries * 8 + tableSlots * 4 + vocabularyBytes;
  if (expected !== own.length) throw new Error(`lexical index: length mismatch (expected ${expected} bytes, got ${own.length})`);
  let at = own.byteOffset + HEADER_BYTES;
  const take = <T>(make: (buffer: ArrayBufferLike, offset: number, length: number) => T, length: number, width: number): T => {
    const out = make(own.buffer, at, length);
    at += length * width;
    return out;
  };
  const f64 = (b: ArrayBufferLike, o: number, l: number) => new Float64Array(b, o, l);
  const u32 = (b: ArrayBufferLike, o: number, l: number) => new Uint32Array(b, o, l);
  const labels = take(f64, n, 8);
  const lengths = take(u32, n, 4);
  const sequences = take(u32, occurrences, 4);
  const offsets = take(u32, termCount + 1, 4);
  const postingStart = take(u32, termCount + 1, 4);
  const postings = take(u32, entries * 2, 4);
  const table = take(u32, tableSlots, 4);
  const vocabulary = take((b, o, l) => new Uint8Array(b, o, l), vocabularyBytes, 1);
  if (postingStart[0] !== 0 || postingStart[termCount] !== entries * 2) throw new Error('lexical index: postings mismatch');
  for (let t = 0; t < termCount; t++) if (postingStart[t]! > postingStart[t + 1]! || (postingStart[t]! & 1) !== 0) throw new Error('lexical index: postings mismatch');
  for (let i = 0; i < postings.length; i += 2) if (postings[i]! >= n) throw new Error('lexical index: posting out of range');
  const terms = TermTable.adopt({ vocabulary, offsets, table });
  return { generation: view.getFloat64(8, true), labels, lengths, sequences, terms, postingStart, postings };
}
