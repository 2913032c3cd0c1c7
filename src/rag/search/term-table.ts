/**
 * A vocabulary packed into three typed arrays: the terms' UTF-8 bytes back to
 * back, their offsets, and an open-addressing hash table of term ids. A
 * resident lexical index then holds a handful of objects instead of one string
 * per term, so a full GC over many resident indexes stays cheap, and a table
 * read from disk is used as is (views on the file's bytes, nothing built).
 */

const encoder = new TextEncoder();
const EMPTY_SLOT = 0;

/** FNV-1a over bytes `[start, end)`. Part of the persisted format: changing it needs a format version. */
export function bytesHash(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The arrays of a packed vocabulary (what is persisted). */
export interface TermTableArrays {
  /** The terms' UTF-8 bytes, concatenated. */
  vocabulary: Uint8Array;
  /** Term `i` is `vocabulary[offsets[i], offsets[i + 1])`; `count + 1` entries. */
  offsets: Uint32Array;
  /** Power-of-two open-addressing table: term id + 1, or 0 for an empty slot. */
  table: Uint32Array;
}

/** Term → dense id (the term's position in the vocabulary), without a string per term. */
export class TermTable {
  readonly vocabulary: Uint8Array;
  readonly offsets: Uint32Array;
  readonly table: Uint32Array;

  private constructor(arrays: TermTableArrays) {
    this.vocabulary = arrays.vocabulary;
    this.offsets = arrays.offsets;
    this.table = arrays.table;
  }

  static readonly empty = TermTable.fromBytes(new Uint8Array(0), new Uint32Array(1));

  /** A table over already-packed terms (distinct), building the hash table. */
  static fromBytes(vocabulary: Uint8Array, offsets: Uint32Array): TermTable {
    const count = offsets.length - 1;
    let size = 8;
    while (size < count * 2) size *= 2;
    const table = new Uint32Array(size);
    const mask = size - 1;
    for (let id = 0; id < count; id++) {
      let at = bytesHash(vocabulary, offsets[id]!, offsets[id + 1]!) & mask;
      while (table[at] !== EMPTY_SLOT) at = (at + 1) & mask;
      table[at] = id + 1;
    }
    return new TermTable({ vocabulary, offsets, table });
  }

  /** Adopts persisted arrays after checking they are shaped right (a wrong table only misses terms, never reads out of range). */
  static adopt(arrays: TermTableArrays): TermTable {
    const { vocabulary, offsets, table } = arrays;
    const count = offsets.length - 1;
    if (count < 0 || offsets[0] !== 0 || offsets[count] !== vocabulary.length) throw new Error('lexical index: vocabulary offsets mismatch');
    for (let i = 0; i < count; i++) if (offsets[i]! > offsets[i + 1]!) throw new Error('lexical index: vocabulary offsets mismatch');
    if (table.length < 8 || (table.length & (table.length - 1)) !== 0 || table.length < count * 2) throw new Error('lexical index: bad term table size');
    let used = 0;
    for (let i = 0; i < table.length; i++) {
      const v = table[i]!;
      if (v > count) throw new Error('lexical index: term table entry out of range');
      if (v !== EMPTY_SLOT) used++;
    }
    if (used !== count) throw new Error('lexical index: term table does not hold every term');
    return new TermTable(arrays);
  }

  get count(): number {
    return this.offsets.length - 1;
  }

  get byteLength(): number {
    return this.vocabulary.byteLength + this.offsets.byteLength + this.table.byteLength;
  }

  /** The id of a term, or -1. */
  idOf(term: string): number {
    return this.idOfBytes(encoder.encode(term));
  }

  /** The id of a term given as UTF-8 bytes, or -1. */
  idOfBytes(bytes: Uint8Array): number {
    const mask = this.table.length - 1;
    const vocab = this.vocabulary;
    let at = bytesHash(bytes, 0, bytes.length) & mask;
    // Bounded by the table size, so a damaged table cannot loop forever.
    for (let probes = 0; probes <= mask; probes++, at = (at + 1) & mask) {
      const entry = this.table[at]!;
      if (entry === EMPTY_SLOT) return -1;
      const id = entry - 1;
      const start = this.offsets[id]!;
      if (this.offsets[id + 1]! - start !== bytes.length) continue;
      let same = true;
      for (let i = 0; i < bytes.length; i++) {
        if (vocab[start + i] !== bytes[i]) {
          same = false;
          break;
        }
      }
      if (same) return id;
    }
    return -1;
  }

  /** Term `id`'s UTF-8 bytes (a view). */
  bytesOf(id: number): Uint8Array {
    return this.vocabulary.subarray(this.offsets[id]!, this.offsets[id + 1]!);
  }
}

/** UTF-8 bytes of a term. */
export function termBytes(term: string): Uint8Array {
  return encoder.encode(term);
}
