/**
 * In-memory BM25 over a namespace's chunk texts, kept next to the vector index
 * so a plain query ranks words without a database round trip. Terms are the
 * RAG tokenizer's (`terms()`: NFKC, lower case, stopwords out, light stemming).
 * Web-search syntax (`parseWebSearchQuery`) is served here too: `or` only
 * relaxes, which plain BM25 already does (every term counts); quoted phrases
 * and `-negation` restrict the matches to chunks satisfying the clauses, which
 * are then ranked by BM25 over the positive terms. Phrases are checked on each
 * chunk's term sequence (32-bit term hashes, after the postings have shown
 * every term present), so no query ever needs the database.
 *
 * Postings are flat `[slot, tf, slot, tf, …]` lists per term; a removed chunk
 * leaves a dead slot that queries skip, and the lists are compacted once dead
 * slots outnumber live ones.
 */
import { terms } from '../text/tokenize.js';
import { parseWebSearchQuery, type QueryItem } from './web-search-query.js';

/** A scored chunk label. */
export interface LexicalHit {
  id: number;
  score: number;
}

const K1 = 1.2;
const B = 0.75;
const MAGIC = 0x584c4d54; // "TMLX" little-endian
const FORMAT_VERSION = 2;
const HEADER_BYTES = 32;
const EMPTY = new Uint32Array(0);

/** Whether a query uses web-search syntax (phrases, negation, `or`). */
export function usesSearchOperators(query: string): boolean {
  return /["“”]/.test(query) || /(^|\s)-\S/.test(query) || /(^|\s)or(\s|$)/i.test(query);
}

/** FNV-1a of a term: the phrase check compares hashes, after the postings proved every term present. */
function termHash(term: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < term.length; i++) {
    h ^= term.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A namespace's inverted index. */
export class LexicalIndex {
  generation: number;
  #labels: number[] = [];
  #lengths: number[] = [];
  /** Each slot's terms in order, hashed (for phrases); empty for dead slots. */
  #sequences: Uint32Array[] = [];
  readonly #slotOf = new Map<number, number>();
  readonly #postings = new Map<string, number[] | Uint32Array>();
  #postingEntries = 0;
  #totalLength = 0;
  #dead = 0;

  constructor(generation = 0) {
    this.generation = generation;
  }

  /** Builds an index over parallel arrays of labels and texts. */
  static build(generation: number, labels: readonly number[], texts: readonly string[]): LexicalIndex {
    const index = new LexicalIndex(generation);
    index.add(labels, texts);
    return index;
  }

  /** Live chunks. */
  get size(): number {
    return this.#slotOf.size;
  }

  /** An estimate of resident bytes (8 per array element, ~80 per term, ~160 per chunk, 4 per term occurrence). */
  get sizeBytes(): number {
    return this.#postingEntries * 16 + this.#postings.size * 80 + this.#labels.length * 160 + this.#totalLength * 4;
  }

  has(label: number): boolean {
    return this.#slotOf.has(label);
  }

  /** Adds chunks; a label already present is replaced. */
  add(labels: readonly number[], texts: readonly string[]): void {
    this.remove(labels.filter((l) => this.#slotOf.has(l)));
    labels.forEach((label, i) => {
      const counts = new Map<string, number>();
      const ts = terms(texts[i] ?? '');
      for (const t of ts) counts.set(t, (counts.get(t) ?? 0) + 1);
      const slot = this.#labels.length;
      this.#labels.push(label);
      this.#lengths.push(ts.length);
      this.#sequences.push(Uint32Array.from(ts, termHash));
      this.#slotOf.set(label, slot);
      this.#totalLength += ts.length;
      for (const [term, tf] of counts) {
        const stored = this.#postings.get(term);
        // Loaded postings are packed typed arrays; they become plain arrays on the first write.
        const list: number[] = stored === undefined ? [] : stored instanceof Uint32Array ? Array.from(stored) : stored;
        if (list !== stored) this.#postings.set(term, list);
        list.push(slot, tf);
        this.#postingEntries++;
      }
    });
  }

  /** Removes chunks by label; unknown labels are ignored. Returns how many were removed. */
  remove(labels: readonly number[]): number {
    let n = 0;
    for (const label of labels) {
      const slot = this.#slotOf.get(label);
      if (slot === undefined) continue;
      this.#slotOf.delete(label);
      this.#labels[slot] = -1;
      this.#sequences[slot] = EMPTY;
      this.#totalLength -= this.#lengths[slot]!;
      this.#dead++;
      n++;
    }
    if (this.#dead > 64 && this.#dead > this.#slotOf.size) this.#compact();
    return n;
  }

  /** The `k` best chunks by BM25 (ties: smaller label first), optionally only labels passing `filter`; web-search syntax as described above. */
  search(query: string, k: number, filter?: (label: number) => boolean): LexicalHit[] {
    const n = this.#slotOf.size;
    if (k <= 0 || n === 0) return [];
    const parsed = parseWebSearchQuery(query);
    const scores = this.#score(parsed.strict ? parsed.positiveTerms : terms(query));
    let slots: Iterable<number> = scores.keys();
    if (parsed.strict) {
      const contains = this.#containment(parsed.clauses);
      // A clause of negations alone can match chunks without any positive term.
      const universe = parsed.clauses.every((c) => c.some((item) => item.negated)) ? this.#liveSlots() : scores.keys();
      slots = [...universe].filter((slot) => parsed.clauses.every((clause) => clause.some((item) => this.#matches(slot, item, contains) !== item.negated)));
    }
    const hits: LexicalHit[] = [];
    for (const slot of slots) {
      const id = this.#labels[slot]!;
      if (!filter || filter(id)) hits.push({ id, score: scores.get(slot) ?? 0 });
    }
    hits.sort((a, b) => b.score - a.score || a.id - b.id);
    return hits.slice(0, k);
  }

  /** BM25 of every live slot containing at least one of `queryTerms`. */
  #score(queryTerms: readonly string[]): Map<number, number> {
    const n = this.#slotOf.size;
    const avgLength = this.#totalLength / n || 1;
    const scores = new Map<number, number>();
    for (const term of new Set(queryTerms)) {
      const list = this.#postings.get(term);
      if (!list) continue;
      let df = 0;
      for (let i = 0; i < list.length; i += 2) if (this.#labels[list[i]!]! >= 0) df++;
      if (df === 0) continue;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      for (let i = 0; i < list.length; i += 2) {
        const slot = list[i]!;
        if (this.#labels[slot]! < 0) continue;
        const tf = list[i + 1]!;
        const s = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * this.#lengths[slot]!) / avgLength));
        scores.set(slot, (scores.get(slot) ?? 0) + s);
      }
    }
    return scores;
  }

  /** For every term of the clauses, the slots containing it. */
  #containment(clauses: readonly QueryItem[][]): Map<string, Set<number>> {
    const out = new Map<string, Set<number>>();
    for (const clause of clauses) {
      for (const item of clause) {
        for (const term of item.terms) {
          if (out.has(term)) continue;
          const slots = new Set<number>();
          const list = this.#postings.get(term);
          if (list) for (let i = 0; i < list.length; i += 2) slots.add(list[i]!);
          out.set(term, slots);
        }
      }
    }
    return out;
  }

  /** Whether a slot contains the item's word, or its phrase with the terms adjacent. */
  #matches(slot: number, item: QueryItem, contains: Map<string, Set<number>>): boolean {
    if (!item.terms.every((t) => contains.get(t)?.has(slot))) return false;
    if (item.terms.length === 1) return true;
    const want = item.terms.map(termHash);
    const seq = this.#sequences[slot]!;
    outer: for (let i = 0; i + want.length <= seq.length; i++) {
      for (let j = 0; j < want.length; j++) if (seq[i + j] !== want[j]) continue outer;
      return true;
    }
    return false;
  }

  *#liveSlots(): Generator<number> {
    for (const slot of this.#slotOf.values()) yield slot;
  }

  /** A compact binary form (labels, lengths, vocabulary, postings); integrity is the artifact store's seal. */
  serialize(): Uint8Array {
    this.#compact();
    const vocabulary = [...this.#postings.keys()];
    const vocabBytes = new TextEncoder().encode(vocabulary.join('\n'));
    const n = this.#labels.length;
    const size = HEADER_BYTES + n * 8 + n * 4 + vocabulary.length * 4 + this.#postingEntries * 8 + this.#totalLength * 4 + vocabBytes.length;
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint32(4, FORMAT_VERSION, true);
    view.setFloat64(8, this.generation, true);
    view.setUint32(16, n, true);
    view.setUint32(20, vocabulary.length, true);
    view.setUint32(24, this.#postingEntries, true);
    view.setUint32(28, vocabBytes.length, true);
    let at = HEADER_BYTES;
    const u32 = (v: number) => {
      view.setUint32(at, v, true);
      at += 4;
    };
    for (const l of this.#labels) {
      view.setFloat64(at, l, true);
      at += 8;
    }
    for (const l of this.#lengths) u32(l);
    for (const term of vocabulary) u32(this.#postings.get(term)!.length / 2);
    for (const term of vocabulary) for (const v of this.#postings.get(term)!) u32(v);
    for (const seq of this.#sequences) for (const h of seq) u32(h);
    out.set(vocabBytes, at);
    return out;
  }

  /** Restores `serialize()` output; throws on anything malformed. */
  static load(bytes: Uint8Array): LexicalIndex {
    if (bytes.length < HEADER_BYTES) throw new Error('lexical index: too short');
    const copy = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
    const view = new DataView(copy.buffer, copy.byteOffset, copy.length);
    if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== FORMAT_VERSION) throw new Error('lexical index: bad magic or version');
    const n = view.getUint32(16, true);
    const termCount = view.getUint32(20, true);
    const entries = view.getUint32(24, true);
    const vocabLength = view.getUint32(28, true);
    if (copy.length < HEADER_BYTES + n * 12) throw new Error('lexical index: length mismatch');
    const index = new LexicalIndex(view.getFloat64(8, true));
    let at = HEADER_BYTES;
    for (let i = 0; i < n; i++, at += 8) {
      const label = view.getFloat64(at, true);
      index.#labels.push(label);
      index.#slotOf.set(label, i);
    }
    for (let i = 0; i < n; i++, at += 4) {
      const len = view.getUint32(at, true);
      index.#lengths.push(len);
      index.#totalLength += len;
    }
    if (HEADER_BYTES + n * 12 + termCount * 4 + entries * 8 + index.#totalLength * 4 + vocabLength !== copy.length) throw new Error('lexical index: length mismatch');
    const counts = new Uint32Array(termCount);
    for (let i = 0; i < termCount; i++, at += 4) counts[i] = view.getUint32(at, true);
    const postingsAt = at;
    at += entries * 8;
    const sequencesAt = at;
    at += index.#totalLength * 4;
    const vocabulary = termCount === 0 ? [] : new TextDecoder().decode(copy.subarray(at, at + vocabLength)).split('\n');
    if (vocabulary.length !== termCount) throw new Error('lexical index: vocabulary mismatch');
    const flat = new Uint32Array(copy.buffer.slice(copy.byteOffset + postingsAt, copy.byteOffset + postingsAt + entries * 8));
    let p = 0;
    vocabulary.forEach((term, i) => {
      const len = counts[i]! * 2;
      const list = flat.subarray(p, p + len);
      for (let j = 0; j < len; j += 2) if (list[j]! >= n) throw new Error('lexical index: posting out of range');
      index.#postings.set(term, list);
      p += len;
    });
    if (p !== entries * 2) throw new Error('lexical index: postings mismatch');
    const sequences = new Uint32Array(copy.buffer.slice(copy.byteOffset + sequencesAt, copy.byteOffset + sequencesAt + index.#totalLength * 4));
    let q = 0;
    for (const len of index.#lengths) {
      index.#sequences.push(sequences.subarray(q, q + len));
      q += len;
    }
    index.#postingEntries = entries;
    return index;
  }

  /** Drops dead slots and renumbers the live ones. */
  #compact(): void {
    if (this.#dead === 0) return;
    const newSlot = new Int32Array(this.#labels.length).fill(-1);
    const labels: number[] = [];
    const lengths: number[] = [];
    const sequences: Uint32Array[] = [];
    this.#labels.forEach((label, slot) => {
      if (label < 0) return;
      newSlot[slot] = labels.length;
      this.#slotOf.set(label, labels.length);
      labels.push(label);
      lengths.push(this.#lengths[slot]!);
      sequences.push(this.#sequences[slot]!);
    });
    let entries = 0;
    for (const [term, list] of this.#postings) {
      const kept: number[] = [];
      for (let i = 0; i < list.length; i += 2) {
        const s = newSlot[list[i]!]!;
        if (s >= 0) kept.push(s, list[i + 1]!);
      }
      if (kept.length === 0) this.#postings.delete(term);
      else this.#postings.set(term, kept);
      entries += kept.length / 2;
    }
    this.#labels = labels;
    this.#lengths = lengths;
    this.#sequences = sequences;
    this.#postingEntries = entries;
    this.#dead = 0;
  }
}
