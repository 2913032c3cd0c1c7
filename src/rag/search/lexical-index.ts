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
 * Packed: many indexes stay resident, and an index of tens of thousands of
 * small objects (a string and an array per term) makes every full GC of the
 * process slow. So the vocabulary is a `TermTable` (bytes, offsets, hash
 * table), the postings are one `[slot, tf, …]` array with per-term offsets, and
 * labels, lengths and term sequences are flat typed arrays: a resident index is
 * about a dozen objects, and loading one adopts views on the file's bytes
 * (`lexical-index-format.ts`). Writes go to a small overlay (term → postings)
 * that is folded into the packed arrays once it grows past a quarter of them,
 * when dead slots outnumber live ones, and before serialising. A removed chunk
 * leaves a dead slot that queries skip.
 */
import { firstRepeated } from '../index/first-repeated.js';
import { terms } from '../text/tokenize.js';
import { decodeLexicalIndex, encodeLexicalIndex, type PackedLexicalIndex } from './lexical-index-format.js';
import { TermTable, termBytes } from './term-table.js';
import { parseWebSearchQuery, type QueryItem } from './web-search-query.js';

/** A scored chunk label. */
export interface LexicalHit {
  id: number;
  score: number;
}

const K1 = 1.2;
const B = 0.75;
/** The overlay is folded into the packed postings once it holds this many entries and a quarter of the packed ones. */
const PACK_MIN_ENTRIES = 4096;
/** Approximate bytes per Map entry (key, value, hash slot) in V8. */
const MAP_ENTRY_BYTES = 40;

/** Whether a query uses web-search syntax (phrases, negation, `or`). */
export function usesSearchOperators(query: string): boolean {
  return /["“”]/.test(query) || /(^|\s)-\S/.test(query) || /(^|\s)or(\s|$)/i.test(query);
}

/** FNV-1a of a term's UTF-16 code units: the phrase check compares these, after the postings proved every term present. */
function termHash(term: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < term.length; i++) {
    h ^= term.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** One term's postings in one store: `list[start, end)` as `[slot, tf, …]`. */
interface PostingRange {
  list: ArrayLike<number>;
  start: number;
  end: number;
}

/** A copy of `from` in a larger array of the same kind. */
function grown<T extends Float64Array | Uint32Array>(from: T, capacity: number, make: (n: number) => T): T {
  const to = make(capacity);
  to.set(from);
  return to;
}

/** A namespace's inverted index. */
export class LexicalIndex {
  generation: number;
  /** Per slot: the chunk's label, or -1 once removed. */
  #labels: Float64Array = new Float64Array(0);
  #lengths: Uint32Array = new Uint32Array(0);
  /** Per slot: where its hashed term sequence starts in `#sequenceData`. */
  #sequenceStart: Uint32Array = new Uint32Array(0);
  #sequenceData: Uint32Array = new Uint32Array(0);
  #sequenceUsed = 0;
  /** Slots in use, dead ones included. */
  #slotCount = 0;
  /** label → slot, built on first need (writes, `has`): searches count live slots instead, and a cold load skips the Map (see `ExactIndex`). */
  #slotOfMap: Map<number, number> | undefined = new Map();
  #totalLength = 0;
  #dead = 0;
  #terms: TermTable = TermTable.empty;
  /** Term id `t`'s postings are `#postings[#postingStart[t], #postingStart[t + 1])`. */
  #postingStart: Uint32Array = new Uint32Array(1);
  #postings: Uint32Array = new Uint32Array(0);
  /** Postings written since the last pack, by term. */
  #overlay = new Map<string, number[]>();
  #overlayEntries = 0;

  constructor(generation = 0) {
    this.generation = generation;
  }

  /** Builds an index over parallel arrays of labels and texts. */
  static build(generation: number, labels: readonly number[], texts: readonly string[]): LexicalIndex {
    const index = new LexicalIndex(generation);
    index.add(labels, texts);
    index.#pack();
    return index;
  }

  /** Live chunks. */
  get size(): number {
    return this.#slotCount - this.#dead;
  }

  #slotOf(): Map<number, number> {
    if (this.#slotOfMap) return this.#slotOfMap;
    const map = new Map<number, number>();
    for (let slot = 0; slot < this.#slotCount; slot++) {
      const label = this.#labels[slot]!;
      if (label >= 0) map.set(label, slot);
    }
    this.#slotOfMap = map;
    return map;
  }

  /** Live slots, in slot order. */
  *#liveSlots(): Generator<number> {
    for (let slot = 0; slot < this.#slotCount; slot++) if (this.#labels[slot]! >= 0) yield slot;
  }

  /** Resident bytes: the typed arrays exactly, plus estimates for the label map and the overlay. */
  get sizeBytes(): number {
    return (
      this.#labels.byteLength +
      this.#lengths.byteLength +
      this.#sequenceStart.byteLength +
      this.#sequenceData.byteLength +
      this.#terms.byteLength +
      this.#postingStart.byteLength +
      this.#postings.byteLength +
      (this.#slotOfMap?.size ?? 0) * MAP_ENTRY_BYTES +
      this.#overlayEntries * 16 +
      this.#overlay.size * 80
    );
  }

  has(label: number): boolean {
    return this.#slotOf().has(label);
  }

  /** Adds chunks; a label already present is replaced. */
  add(labels: readonly number[], texts: readonly string[]): void {
    const slotOf = this.#slotOf();
    this.remove(labels.filter((l) => slotOf.has(l)));
    labels.forEach((label, i) => {
      const ts = terms(texts[i] ?? '');
      const slot = this.#appendSlot(label, ts);
      const counts = new Map<string, number>();
      for (const t of ts) counts.set(t, (counts.get(t) ?? 0) + 1);
      for (const [term, tf] of counts) {
        let list = this.#overlay.get(term);
        if (!list) {
          list = [];
          this.#overlay.set(term, list);
        }
        list.push(slot, tf);
        this.#overlayEntries++;
      }
    });
    if (this.#overlayEntries >= PACK_MIN_ENTRIES && this.#overlayEntries * 8 >= this.#postings.length) this.#pack();
  }

  /** Removes chunks by label; unknown labels are ignored. Returns how many were removed. */
  remove(labels: readonly number[]): number {
    let n = 0;
    const slotOf = this.#slotOf();
    for (const label of labels) {
      const slot = slotOf.get(label);
      if (slot === undefined) continue;
      slotOf.delete(label);
      this.#labels[slot] = -1;
      this.#totalLength -= this.#lengths[slot]!;
      this.#dead++;
      n++;
    }
    if (this.#dead > 64 && this.#dead > this.size) this.#pack();
    return n;
  }

  /** The `k` best chunks by BM25 (ties: smaller label first), optionally only labels passing `filter`; web-search syntax as described above. */
  search(query: string, k: number, filter?: (label: number) => boolean): LexicalHit[] {
    const n = this.size;
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

  /** A term's postings: the packed range, then the overlay's. */
  #postingsOf(term: string): PostingRange[] {
    const out: PostingRange[] = [];
    const id = this.#terms.idOf(term);
    if (id >= 0) out.push({ list: this.#postings, start: this.#postingStart[id]!, end: this.#postingStart[id + 1]! });
    const extra = this.#overlay.get(term);
    if (extra) out.push({ list: extra, start: 0, end: extra.length });
    return out;
  }

  /** BM25 of every live slot containing at least one of `queryTerms`. */
  #score(queryTerms: readonly string[]): Map<number, number> {
    const n = this.size;
    const avgLength = this.#totalLength / n || 1;
    const labels = this.#labels;
    const scores = new Map<number, number>();
    for (const term of new Set(queryTerms)) {
      const ranges = this.#postingsOf(term);
      let df = 0;
      for (const { list, start, end } of ranges) for (let i = start; i < end; i += 2) if (labels[list[i]!]! >= 0) df++;
      if (df === 0) continue;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      for (const { list, start, end } of ranges) {
        for (let i = start; i < end; i += 2) {
          const slot = list[i]!;
          if (labels[slot]! < 0) continue;
          const tf = list[i + 1]!;
          const s = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * this.#lengths[slot]!) / avgLength));
          scores.set(slot, (scores.get(slot) ?? 0) + s);
        }
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
          for (const { list, start, end } of this.#postingsOf(term)) for (let i = start; i < end; i += 2) slots.add(list[i]!);
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
    const seq = this.#sequenceData;
    const from = this.#sequenceStart[slot]!;
    const to = from + this.#lengths[slot]!;
    outer: for (let i = from; i + want.length <= to; i++) {
      for (let j = 0; j < want.length; j++) if (seq[i + j] !== want[j]) continue outer;
      return true;
    }
    return false;
  }

  /** Appends a live slot with its hashed term sequence; grows the arrays (a loaded index's are exactly full) as needed. */
  #appendSlot(label: number, ts: readonly string[]): number {
    if (this.#slotCount === this.#labels.length) {
      const capacity = Math.max(64, this.#labels.length * 2);
      this.#labels = grown(this.#labels, capacity, (c) => new Float64Array(c));
      this.#lengths = grown(this.#lengths, capacity, (c) => new Uint32Array(c));
      this.#sequenceStart = grown(this.#sequenceStart, capacity, (c) => new Uint32Array(c));
    }
    if (this.#sequenceUsed + ts.length > this.#sequenceData.length) {
      this.#sequenceData = grown(this.#sequenceData, Math.max(1024, this.#sequenceUsed + ts.length, this.#sequenceData.length * 2), (c) => new Uint32Array(c));
    }
    const slot = this.#slotCount++;
    this.#labels[slot] = label;
    this.#lengths[slot] = ts.length;
    this.#sequenceStart[slot] = this.#sequenceUsed;
    for (const t of ts) this.#sequenceData[this.#sequenceUsed++] = termHash(t);
    this.#slotOf().set(label, slot);
    this.#totalLength += ts.length;
    return slot;
  }

  /** Drops dead slots (renumbering the live ones) and folds the overlay into freshly packed arrays. */
  #pack(): void {
    if (this.#dead === 0 && this.#overlayEntries === 0 && this.#slotCount === this.#labels.length) return;
    const oldLabels = this.#labels;
    const live = this.size;
    const slotOf = this.#slotOf();
    const newSlot = new Int32Array(this.#slotCount).fill(-1);
    const labels = new Float64Array(live);
    const lengths = new Uint32Array(live);
    const sequenceStart = new Uint32Array(live);
    const sequenceData = new Uint32Array(this.#totalLength);
    let next = 0;
    let used = 0;
    for (let slot = 0; slot < this.#slotCount; slot++) {
      const label = oldLabels[slot]!;
      if (label < 0) continue;
      const len = this.#lengths[slot]!;
      const from = this.#sequenceStart[slot]!;
      newSlot[slot] = next;
      labels[next] = label;
      lengths[next] = len;
      sequenceStart[next] = used;
      sequenceData.set(this.#sequenceData.subarray(from, from + len), used);
      used += len;
      slotOf.set(label, next);
      next++;
    }

    // Terms: the packed ones in id order, then the overlay's new ones; a term left without live postings is dropped.
    const base = this.#terms;
    const extraOfBase = new Map<number, number[]>();
    const fresh: Array<{ bytes: Uint8Array; list: number[] }> = [];
    for (const [term, list] of this.#overlay) {
      const bytes = termBytes(term);
      const id = base.idOfBytes(bytes);
      if (id >= 0) extraOfBase.set(id, list);
      else fresh.push({ bytes, list });
    }
    const livePairs = (list: ArrayLike<number>, start: number, end: number) => {
      let c = 0;
      for (let i = start; i < end; i += 2) if (newSlot[list[i]!]! >= 0) c++;
      return c;
    };
    const termTotal = base.count + fresh.length;
    const counts = new Uint32Array(termTotal);
    let vocabularyBytes = 0;
    let pairs = 0;
    let kept = 0;
    for (let t = 0; t < termTotal; t++) {
      const c =
        t < base.count
          ? livePairs(this.#postings, this.#postingStart[t]!, this.#postingStart[t + 1]!) + livePairs(extraOfBase.get(t) ?? [], 0, extraOfBase.get(t)?.length ?? 0)
          : livePairs(fresh[t - base.count]!.list, 0, fresh[t - base.count]!.list.length);
      counts[t] = c;
      if (c === 0) continue;
      kept++;
      pairs += c;
      vocabularyBytes += t < base.count ? base.bytesOf(t).length : fresh[t - base.count]!.bytes.length;
    }
    const vocabulary = new Uint8Array(vocabularyBytes);
    const offsets = new Uint32Array(kept + 1);
    const postingStart = new Uint32Array(kept + 1);
    const postings = new Uint32Array(pairs * 2);
    let id = 0;
    let at = 0;
    const copyLive = (list: ArrayLike<number>, start: number, end: number) => {
      for (let i = start; i < end; i += 2) {
        const s = newSlot[list[i]!]!;
        if (s < 0) continue;
        postings[at++] = s;
        postings[at++] = list[i + 1]!;
      }
    };
    for (let t = 0; t < termTotal; t++) {
      if (counts[t] === 0) continue;
      const bytes = t < base.count ? base.bytesOf(t) : fresh[t - base.count]!.bytes;
      vocabulary.set(bytes, offsets[id]!);
      offsets[id + 1] = offsets[id]! + bytes.length;
      postingStart[id] = at;
      if (t < base.count) {
        copyLive(this.#postings, this.#postingStart[t]!, this.#postingStart[t + 1]!);
        const extra = extraOfBase.get(t);
        if (extra) copyLive(extra, 0, extra.length);
      } else {
        const list = fresh[t - base.count]!.list;
        copyLive(list, 0, list.length);
      }
      id++;
    }
    postingStart[kept] = at;

    this.#labels = labels;
    this.#lengths = lengths;
    this.#sequenceStart = sequenceStart;
    this.#sequenceData = sequenceData;
    this.#sequenceUsed = used;
    this.#slotCount = live;
    this.#dead = 0;
    this.#terms = TermTable.fromBytes(vocabulary, offsets);
    this.#postingStart = postingStart;
    this.#postings = postings;
    this.#overlay = new Map();
    this.#overlayEntries = 0;
  }

  /** The persisted form (see `lexical-index-format.ts`); integrity is the artifact store's seal. */
  serialize(): Uint8Array {
    this.#pack();
    return encodeLexicalIndex({
      generation: this.generation,
      labels: this.#labels,
      lengths: this.#lengths,
      sequences: this.#sequenceData.subarray(0, this.#sequenceUsed),
      terms: this.#terms,
      postingStart: this.#postingStart,
      postings: this.#postings,
    });
  }

  /** Restores `serialize()` output as views on `bytes` (which the index then owns); throws on anything malformed. */
  static load(bytes: Uint8Array): LexicalIndex {
    return LexicalIndex.#fromPacked(decodeLexicalIndex(bytes));
  }

  static #fromPacked(packed: PackedLexicalIndex): LexicalIndex {
    const index = new LexicalIndex(packed.generation);
    const n = packed.labels.length;
    const sequenceStart = new Uint32Array(n);
    let total = 0;
    for (let slot = 0; slot < n; slot++) {
      const label = packed.labels[slot]!;
      if (!Number.isSafeInteger(label) || label < 0) throw new Error('lexical index: bad or repeated label');
      sequenceStart[slot] = total;
      total += packed.lengths[slot]!;
    }
    if (firstRepeated(packed.labels) !== undefined) throw new Error('lexical index: bad or repeated label');
    index.#slotOfMap = undefined;
    if (total !== packed.sequences.length) throw new Error('lexical index: sequence length mismatch');
    index.#labels = packed.labels;
    index.#lengths = packed.lengths;
    index.#sequenceStart = sequenceStart;
    index.#sequenceData = packed.sequences;
    index.#sequenceUsed = total;
    index.#slotCount = n;
    index.#totalLength = total;
    index.#terms = packed.terms;
    index.#postingStart = packed.postingStart;
    index.#postings = packed.postings;
    return index;
  }
}
