/**
 * The single-row walk of a numeric forest on packed nodes.
 *
 * A request for one row finds its model out of the CPU caches: other
 * tenants' requests ran since, and 25 models of 200 KB do not stay in L2.
 * The lockstep walk on separate `stepFeature`, `threshold` and `child` arrays
 * touches three cache lines per node it visits, one after another down each
 * tree, so a 100-tree model cost ~12 µs a row on the serving path against
 * ~2.5 µs when it was cached. Here each tree is laid out as a complete binary
 * tree of 16-bit nodes in heap order (the children of slot i are 2i + 1 and
 * 2i + 2, so a node needs no child pointer): the top five levels of a tree
 * share one cache line, and a depth-6 walk waits for three lines (those
 * levels, the sixth, the leaf) instead of six or seven. 16 trees walk in
 * lockstep so that 16 of those waits overlap.
 *
 * A node is `feature | (k + 1) << featureBits` for its threshold t_k, the
 * k-th of that feature's distinct split thresholds (ascending). The row is
 * first turned into ranks: rank(x) = how many of the feature's thresholds are
 * <= x, so x < t_k exactly when rank(x) <= k, and the walk compares small
 * integers with the same outcome. A leaf above the bottom level becomes a
 * subtree of pass-through nodes (0: always right) over copies of its value.
 * Leaves still add up in float32 in tree order: results are bit-identical to
 * the other kernels and to XGBoost.
 *
 * Only complete rows (no NaN) take this walk, and only forests at most
 * `MAX_PACKED_DEPTH` deep whose feature and rank fit 16 bits (a complete tree
 * doubles with each level); the others keep the array kernels.
 */
import type { CompiledForest } from './compiled-forest.js';
import type { NumericArray } from './types.js';

const f32 = Math.fround;

/** Deepest forest packed: 2^depth slots a tree, 1.5 KB a tree at 8. */
export const MAX_PACKED_DEPTH = 8;

/** The packed form of a numeric forest (see the file comment). */
export interface PackedNodes {
  /** 2^packedDepth slots per tree, tree after tree: the 2^packedDepth - 1 nodes in heap order, then one unused. Empty when the forest does not pack. */
  packed: Uint16Array;
  /** 2^packedDepth leaf values per tree, in the order of the bottom level. */
  packedLeaves: Float32Array;
  /** The forest's depth: every tree is walked this many steps. */
  packedDepth: number;
  /** Bits of a node holding the feature; the rest hold k + 1. */
  packedFeatureBits: number;
  /** Each feature's distinct split thresholds, ascending, one feature after another. */
  cuts: Float32Array;
  /** Where each feature's thresholds start in `cuts` (numFeatures + 1 entries). */
  cutStart: Int32Array;
}

/**
 * Where the single-row walk reads the packed arrays: a view of the memory
 * each one is in, and the index of its first element there. A compiled
 * forest's are its arrays themselves, from 0. A decoded layout's are views of
 * its whole buffer, made once per buffer and shared by every layout read into
 * it (see compiled-forest-codec.ts): a cold load then makes no view for the walk.
 */
export interface PackedReads {
  /** Trees packed: 0 when the forest does not pack. */
  readonly trees: number;
  readonly nodes: Uint16Array;
  readonly nodesAt: number;
  readonly leaves: Float32Array;
  readonly leavesAt: number;
  readonly cuts: Float32Array;
  readonly cutsAt: number;
  readonly cutStart: Int32Array;
  readonly cutStartAt: number;
}

/** The walk's reads of packed nodes that are arrays of their own. */
export function readsOf(p: PackedNodes): PackedReads {
  return {
    trees: p.packed.length >> p.packedDepth,
    nodes: p.packed,
    nodesAt: 0,
    leaves: p.packedLeaves,
    leavesAt: 0,
    cuts: p.cuts,
    cutsAt: 0,
    cutStart: p.cutStart,
    cutStartAt: 0,
  };
}

/** What the walk reads of a forest. */
type Walked = Pick<CompiledForest, 'numFeatures' | 'baseMargin' | 'packedDepth' | 'packedFeatureBits' | 'walk'>;

/** A forest that does not pack: the array kernels walk it. (Fresh arrays each time: layouts' buffers get moved to other threads.) */
export function unpacked(): PackedNodes {
  return { packed: new Uint16Array(0), packedLeaves: new Float32Array(0), packedDepth: 0, packedFeatureBits: 0, cuts: new Float32Array(0), cutStart: new Int32Array(0) };
}

const bitsFor = (v: number) => (v <= 0 ? 0 : 32 - Math.clz32(v));

/** The breadth-first numeric layout `packNodes` reads (a leaf's child is before it). */
type Layout = Pick<CompiledForest, 'numFeatures' | 'roots' | 'treeDepth' | 'stepFeature' | 'threshold' | 'child' | 'value'>;

/** Packs a numeric forest, or returns `unpacked()` when it is too deep or its fields do not fit 16 bits. */
export function packNodes(c: Layout): PackedNodes {
  const { numFeatures, roots, treeDepth, stepFeature: feature, threshold, child, value } = c;
  let depth = 0;
  for (const d of treeDepth) depth = Math.max(depth, d);
  if (depth > MAX_PACKED_DEPTH) return unpacked();
  const thresholds = splitThresholds(c);
  if (thresholds === undefined) return unpacked();
  const { cuts, cutStart, mostCuts } = thresholds;
  const featureBits = bitsFor(numFeatures - 1);
  if (featureBits + bitsFor(mostCuts) > 16) return unpacked();
  const size = 1 << depth;
  const packed = new Uint16Array(roots.length * size);
  const packedLeaves = new Float32Array(roots.length * size);
  // Depth-first, (node, slot, level) triples; at most depth + 1 wait at once.
  const stack = new Int32Array(3 * (depth + 2));
  for (let t = 0; t < roots.length; t++) {
    const base = t * size;
    let top = 0;
    stack[top++] = roots[t]!;
    stack[top++] = 0;
    stack[top++] = 0;
    while (top > 0) {
      const level = stack[--top]!;
      const slot = stack[--top]!;
      const n = stack[--top]!;
      if (child[n]! < n) {
        // A leaf: every bottom slot under it holds its value (the walk reaches the rightmost through pass-through nodes).
        const span = 1 << (depth - level);
        const first = slot * span + span - 1 - (size - 1);
        packedLeaves.fill(value[n]!, base + first, base + first + span);
        continue;
      }
      const f = feature[n]!;
      const k = lowerBound(cuts, cutStart[f]!, cutStart[f + 1]!, threshold[n]!) - cutStart[f]!;
      packed[base + slot] = ((k + 1) << featureBits) | f;
      stack.set([child[n]! + 1, 2 * slot + 2, level + 1, child[n]!, 2 * slot + 1, level + 1], top);
      top += 6;
    }
  }
  return { packed, packedLeaves, packedDepth: depth, packedFeatureBits: featureBits, cuts, cutStart };
}

/** Each feature's distinct split thresholds (-0 and 0 are one), or undefined when a split cannot be packed. */
function splitThresholds(c: Layout): { cuts: Float32Array; cutStart: Int32Array; mostCuts: number } | undefined {
  const { numFeatures, stepFeature: feature, threshold, child } = c;
  const nodes = child.length;
  const cutStart = new Int32Array(numFeatures + 1);
  for (let n = 0; n < nodes; n++) {
    if (child[n]! < n) continue;
    const f = feature[n]!;
    if (f < 0 || f >= numFeatures || Number.isNaN(threshold[n]!)) return undefined;
    cutStart[f + 1]!++;
  }
  for (let f = 0; f < numFeatures; f++) cutStart[f + 1]! += cutStart[f]!;
  const all = new Float32Array(cutStart[numFeatures]!);
  const fill = cutStart.slice(0, numFeatures);
  for (let n = 0; n < nodes; n++) if (child[n]! > n) all[fill[feature[n]!]!++] = threshold[n]!;
  // Each feature's group sorted, then its repeats dropped, compacted in place (writes never pass the reads).
  let distinct = 0;
  let mostCuts = 0;
  for (let f = 0; f < numFeatures; f++) {
    const group = all.subarray(cutStart[f]!, cutStart[f + 1]!).sort();
    cutStart[f] = distinct;
    for (let i = 0; i < group.length; i++) if (i === 0 || group[i] !== group[i - 1]) all[distinct++] = group[i]!;
    mostCuts = Math.max(mostCuts, distinct - cutStart[f]!);
  }
  cutStart[numFeatures] = distinct;
  return { cuts: all.slice(0, distinct), cutStart, mostCuts };
}

/** First index in [lo, hi) whose value is >= v. */
function lowerBound(a: Float32Array, lo: number, hi: number, v: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// The row's ranks, reused: the walk is synchronous, so one array per thread serves every call.
let ranks = new Int32Array(64);

/** Margin of one complete row (no NaN) of a forest with packed nodes. */
export function packedRowMargin(c: Walked, x: NumericArray, o: number): number {
  const { numFeatures } = c;
  const { cuts, cutsAt, cutStart, cutStartAt: startAt } = c.walk;
  if (ranks.length < numFeatures) ranks = new Int32Array(numFeatures);
  const r = ranks;
  for (let f = 0; f < numFeatures; f++) {
    const v = f32(x[o + f]!);
    const first = cutsAt + cutStart[startAt + f]!;
    let lo = first;
    let hi = cutsAt + cutStart[startAt + f + 1]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cuts[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    r[f] = lo - first;
  }
  return walkRanks(c, r);
}

/** The walk proper, 16 trees at a time; a last group of fewer walks its last tree in the spare lanes and does not add them. */
function walkRanks(c: Walked, r: Int32Array): number {
  const { packedDepth: depth, packedFeatureBits: fBits } = c;
  const { nodes: w, leaves, trees: numTrees, nodesAt } = c.walk;
  const fMask = (1 << fBits) - 1;
  // Tree t's nodes start at b = nodesAt + (t << depth). The walk ends at slot i of the bottom level, counted from the
  // tree's first node; its leaf is at leavesAt + (t << depth) + i - (2^depth - 1), which is b + i + leafShift.
  const leafShift = c.walk.leavesAt - nodesAt - ((1 << depth) - 1);
  const last = numTrees - 1;
  let sum = c.baseMargin;
  for (let t = 0; t < numTrees; t += 16) {
    const b0 = nodesAt + ((t + 0 < numTrees ? t + 0 : last) << depth);
    let i0 = 0;
    const b1 = nodesAt + ((t + 1 < numTrees ? t + 1 : last) << depth);
    let i1 = 0;
    const b2 = nodesAt + ((t + 2 < numTrees ? t + 2 : last) << depth);
    let i2 = 0;
    const b3 = nodesAt + ((t + 3 < numTrees ? t + 3 : last) << depth);
    let i3 = 0;
    const b4 = nodesAt + ((t + 4 < numTrees ? t + 4 : last) << depth);
    let i4 = 0;
    const b5 = nodesAt + ((t + 5 < numTrees ? t + 5 : last) << depth);
    let i5 = 0;
    const b6 = nodesAt + ((t + 6 < numTrees ? t + 6 : last) << depth);
    let i6 = 0;
    const b7 = nodesAt + ((t + 7 < numTrees ? t + 7 : last) << depth);
    let i7 = 0;
    const b8 = nodesAt + ((t + 8 < numTrees ? t + 8 : last) << depth);
    let i8 = 0;
    const b9 = nodesAt + ((t + 9 < numTrees ? t + 9 : last) << depth);
    let i9 = 0;
    const b10 = nodesAt + ((t + 10 < numTrees ? t + 10 : last) << depth);
    let i10 = 0;
    const b11 = nodesAt + ((t + 11 < numTrees ? t + 11 : last) << depth);
    let i11 = 0;
    const b12 = nodesAt + ((t + 12 < numTrees ? t + 12 : last) << depth);
    let i12 = 0;
    const b13 = nodesAt + ((t + 13 < numTrees ? t + 13 : last) << depth);
    let i13 = 0;
    const b14 = nodesAt + ((t + 14 < numTrees ? t + 14 : last) << depth);
    let i14 = 0;
    const b15 = nodesAt + ((t + 15 < numTrees ? t + 15 : last) << depth);
    let i15 = 0;
    for (let d = 0; d < depth; d++) {
      const w0 = w[b0 + i0]!;
      const w1 = w[b1 + i1]!;
      const w2 = w[b2 + i2]!;
      const w3 = w[b3 + i3]!;
      const w4 = w[b4 + i4]!;
      const w5 = w[b5 + i5]!;
      const w6 = w[b6 + i6]!;
      const w7 = w[b7 + i7]!;
      const w8 = w[b8 + i8]!;
      const w9 = w[b9 + i9]!;
      const w10 = w[b10 + i10]!;
      const w11 = w[b11 + i11]!;
      const w12 = w[b12 + i12]!;
      const w13 = w[b13 + i13]!;
      const w14 = w[b14 + i14]!;
      const w15 = w[b15 + i15]!;
      i0 = 2 * i0 + 1 + +(r[w0 & fMask]! >= w0 >>> fBits);
      i1 = 2 * i1 + 1 + +(r[w1 & fMask]! >= w1 >>> fBits);
      i2 = 2 * i2 + 1 + +(r[w2 & fMask]! >= w2 >>> fBits);
      i3 = 2 * i3 + 1 + +(r[w3 & fMask]! >= w3 >>> fBits);
      i4 = 2 * i4 + 1 + +(r[w4 & fMask]! >= w4 >>> fBits);
      i5 = 2 * i5 + 1 + +(r[w5 & fMask]! >= w5 >>> fBits);
      i6 = 2 * i6 + 1 + +(r[w6 & fMask]! >= w6 >>> fBits);
      i7 = 2 * i7 + 1 + +(r[w7 & fMask]! >= w7 >>> fBits);
      i8 = 2 * i8 + 1 + +(r[w8 & fMask]! >= w8 >>> fBits);
      i9 = 2 * i9 + 1 + +(r[w9 & fMask]! >= w9 >>> fBits);
      i10 = 2 * i10 + 1 + +(r[w10 & fMask]! >= w10 >>> fBits);
      i11 = 2 * i11 + 1 + +(r[w11 & fMask]! >= w11 >>> fBits);
      i12 = 2 * i12 + 1 + +(r[w12 & fMask]! >= w12 >>> fBits);
      i13 = 2 * i13 + 1 + +(r[w13 & fMask]! >= w13 >>> fBits);
      i14 = 2 * i14 + 1 + +(r[w14 & fMask]! >= w14 >>> fBits);
      i15 = 2 * i15 + 1 + +(r[w15 & fMask]! >= w15 >>> fBits);
    }
    sum = f32(sum + leaves[b0 + i0 + leafShift]!);
    if (t + 1 < numTrees) sum = f32(sum + leaves[b1 + i1 + leafShift]!);
    if (t + 2 < numTrees) sum = f32(sum + leaves[b2 + i2 + leafShift]!);
    if (t + 3 < numTrees) sum = f32(sum + leaves[b3 + i3 + leafShift]!);
    if (t + 4 < numTrees) sum = f32(sum + leaves[b4 + i4 + leafShift]!);
    if (t + 5 < numTrees) sum = f32(sum + leaves[b5 + i5 + leafShift]!);
    if (t + 6 < numTrees) sum = f32(sum + leaves[b6 + i6 + leafShift]!);
    if (t + 7 < numTrees) sum = f32(sum + leaves[b7 + i7 + leafShift]!);
    if (t + 8 < numTrees) sum = f32(sum + leaves[b8 + i8 + leafShift]!);
    if (t + 9 < numTrees) sum = f32(sum + leaves[b9 + i9 + leafShift]!);
    if (t + 10 < numTrees) sum = f32(sum + leaves[b10 + i10 + leafShift]!);
    if (t + 11 < numTrees) sum = f32(sum + leaves[b11 + i11 + leafShift]!);
    if (t + 12 < numTrees) sum = f32(sum + leaves[b12 + i12 + leafShift]!);
    if (t + 13 < numTrees) sum = f32(sum + leaves[b13 + i13 + leafShift]!);
    if (t + 14 < numTrees) sum = f32(sum + leaves[b14 + i14 + leafShift]!);
    if (t + 15 < numTrees) sum = f32(sum + leaves[b15 + i15 + leafShift]!);
  }
  return sum;
}
