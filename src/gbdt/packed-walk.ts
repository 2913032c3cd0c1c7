/**
 * The single-row walk of a numeric forest on packed nodes.
 *
 * A request for one row finds its model out of the CPU caches: other
 * tenants' requests ran since, and 25 models of 200 KB do not stay in L2. The
 * lockstep walk on separate `stepFeature`, `threshold` and `child` arrays
 * touches three cache lines per node it visits, so a 100-tree model cost
 * ~12 µs a row on the serving path against ~2.5 µs when it was cached. Here a
 * node is one 32-bit word (feature, the rank of its threshold among that
 * feature's split thresholds, and the offset of its children), so a visit
 * touches one line, and 16 trees walk in lockstep so that 16 of those misses
 * are in flight at once.
 *
 * The row is first turned into ranks: rank(x) = how many of the feature's
 * distinct split thresholds are <= x. For the k-th threshold t_k (ascending),
 * x < t_k exactly when rank(x) <= k, so comparing ranks goes the same way as
 * comparing values, and leaves still add up in float32 in tree order: results
 * are bit-identical to the other kernels and to XGBoost. A word holds
 * `feature | (k + 1) << featureBits | (child - node + 1) << (featureBits + cutBits)`; a leaf's word is 0, which
 * steps onto itself, so every group walks its deepest tree's depth.
 *
 * Only complete rows (no NaN) take this walk, and only forests whose fields
 * fit in 32 bits together; the others keep the array kernels.
 */
import type { CompiledForest } from './compiled-forest.js';
import type { NumericArray } from './types.js';

const f32 = Math.fround;

/** The packed form of a numeric forest's internal nodes (see the file comment). */
export interface PackedNodes {
  /** One word per node; empty when the forest does not pack. */
  packed: Uint32Array;
  /** Each feature's distinct split thresholds, ascending, one feature after another. */
  cuts: Float32Array;
  /** Where each feature's thresholds start in `cuts` (numFeatures + 1 entries). */
  cutStart: Int32Array;
  /** Bits of a word holding the feature. */
  packedFeatureBits: number;
  /** Bits of a word holding the threshold's rank + 1. */
  packedCutBits: number;
}

/** A forest that does not pack: the array kernels walk it. (Fresh arrays each time: layouts' buffers get moved to other threads.) */
export function unpacked(): PackedNodes {
  return { packed: new Uint32Array(0), cuts: new Float32Array(0), cutStart: new Int32Array(0), packedFeatureBits: 0, packedCutBits: 0 };
}

const bitsFor = (v: number) => (v <= 0 ? 0 : 32 - Math.clz32(v));

/** Packs a breadth-first numeric layout (a leaf's child is before it), or returns `unpacked()` when its fields do not fit a word. */
export function packNodes(numFeatures: number, feature: Int32Array, threshold: Float32Array, child: Int32Array): PackedNodes {
  const isSplit = (n: number) => child[n]! > n;
  const nodes = feature.length;
  const cutStart = new Int32Array(numFeatures + 1);
  for (let n = 0; n < nodes; n++) {
    if (!isSplit(n)) continue;
    const f = feature[n]!;
    if (f < 0 || f >= numFeatures || Number.isNaN(threshold[n]!)) return unpacked();
    cutStart[f + 1]!++;
  }
  for (let f = 0; f < numFeatures; f++) cutStart[f + 1]! += cutStart[f]!;
  // Every split's threshold, grouped by feature, then each group sorted and its repeats dropped (-0 and 0 are one).
  const all = new Float32Array(cutStart[numFeatures]!);
  const fill = cutStart.slice(0, numFeatures);
  for (let n = 0; n < nodes; n++) if (isSplit(n)) all[fill[feature[n]!]!++] = threshold[n]!;
  let distinct = 0;
  let mostCuts = 0;
  for (let f = 0; f < numFeatures; f++) {
    const group = all.subarray(cutStart[f]!, cutStart[f + 1]!).sort();
    cutStart[f] = distinct;
    for (let i = 0; i < group.length; i++) if (i === 0 || group[i] !== group[i - 1]) all[distinct++] = group[i]!;
    mostCuts = Math.max(mostCuts, distinct - cutStart[f]!);
  }
  cutStart[numFeatures] = distinct;
  const cuts = all.slice(0, distinct);
  let farthestChild = 0;
  for (let n = 0; n < nodes; n++) if (isSplit(n)) farthestChild = Math.max(farthestChild, child[n]! - n + 1);
  const featureBits = bitsFor(numFeatures - 1);
  const cutBits = bitsFor(mostCuts);
  if (featureBits + cutBits + bitsFor(farthestChild) > 32) return unpacked();
  const packed = new Uint32Array(nodes);
  for (let n = 0; n < nodes; n++) {
    if (!isSplit(n)) continue; // a leaf: 0
    const f = feature[n]!;
    const k = lowerBound(cuts, cutStart[f]!, cutStart[f + 1]!, threshold[n]!) - cutStart[f]!;
    packed[n] = ((child[n]! - n + 1) << (featureBits + cutBits)) | ((k + 1) << featureBits) | f;
  }
  return { packed, cuts, cutStart, packedFeatureBits: featureBits, packedCutBits: cutBits };
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
export function packedRowMargin(c: CompiledForest, x: NumericArray, o: number): number {
  const { cuts, cutStart, numFeatures } = c;
  if (ranks.length < numFeatures) ranks = new Int32Array(numFeatures);
  const r = ranks;
  for (let f = 0; f < numFeatures; f++) {
    const v = f32(x[o + f]!);
    const first = cutStart[f]!;
    let lo = first;
    let hi = cutStart[f + 1]!;
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
function walkRanks(c: CompiledForest, r: Int32Array): number {
  const { packed: w, value, roots, treeDepth, packedFeatureBits: fBits } = c;
  const fMask = (1 << fBits) - 1;
  const kMask = (1 << c.packedCutBits) - 1;
  const eShift = fBits + c.packedCutBits;
  const numTrees = roots.length;
  const last = numTrees - 1;
  let sum = c.baseMargin;
  for (let t = 0; t < numTrees; t += 16) {
    let n0 = roots[t + 0 < numTrees ? t + 0 : last]!;
    let n1 = roots[t + 1 < numTrees ? t + 1 : last]!;
    let n2 = roots[t + 2 < numTrees ? t + 2 : last]!;
    let n3 = roots[t + 3 < numTrees ? t + 3 : last]!;
    let n4 = roots[t + 4 < numTrees ? t + 4 : last]!;
    let n5 = roots[t + 5 < numTrees ? t + 5 : last]!;
    let n6 = roots[t + 6 < numTrees ? t + 6 : last]!;
    let n7 = roots[t + 7 < numTrees ? t + 7 : last]!;
    let n8 = roots[t + 8 < numTrees ? t + 8 : last]!;
    let n9 = roots[t + 9 < numTrees ? t + 9 : last]!;
    let n10 = roots[t + 10 < numTrees ? t + 10 : last]!;
    let n11 = roots[t + 11 < numTrees ? t + 11 : last]!;
    let n12 = roots[t + 12 < numTrees ? t + 12 : last]!;
    let n13 = roots[t + 13 < numTrees ? t + 13 : last]!;
    let n14 = roots[t + 14 < numTrees ? t + 14 : last]!;
    let n15 = roots[t + 15 < numTrees ? t + 15 : last]!;
    let depth = 0;
    for (let k = t, end = Math.min(t + 16, numTrees); k < end; k++) if (treeDepth[k]! > depth) depth = treeDepth[k]!;
    for (let d = 0; d < depth; d++) {
      const w0 = w[n0]!;
      const w1 = w[n1]!;
      const w2 = w[n2]!;
      const w3 = w[n3]!;
      const w4 = w[n4]!;
      const w5 = w[n5]!;
      const w6 = w[n6]!;
      const w7 = w[n7]!;
      const w8 = w[n8]!;
      const w9 = w[n9]!;
      const w10 = w[n10]!;
      const w11 = w[n11]!;
      const w12 = w[n12]!;
      const w13 = w[n13]!;
      const w14 = w[n14]!;
      const w15 = w[n15]!;
      n0 += (w0 >>> eShift) - +(r[w0 & fMask]! < ((w0 >>> fBits) & kMask));
      n1 += (w1 >>> eShift) - +(r[w1 & fMask]! < ((w1 >>> fBits) & kMask));
      n2 += (w2 >>> eShift) - +(r[w2 & fMask]! < ((w2 >>> fBits) & kMask));
      n3 += (w3 >>> eShift) - +(r[w3 & fMask]! < ((w3 >>> fBits) & kMask));
      n4 += (w4 >>> eShift) - +(r[w4 & fMask]! < ((w4 >>> fBits) & kMask));
      n5 += (w5 >>> eShift) - +(r[w5 & fMask]! < ((w5 >>> fBits) & kMask));
      n6 += (w6 >>> eShift) - +(r[w6 & fMask]! < ((w6 >>> fBits) & kMask));
      n7 += (w7 >>> eShift) - +(r[w7 & fMask]! < ((w7 >>> fBits) & kMask));
      n8 += (w8 >>> eShift) - +(r[w8 & fMask]! < ((w8 >>> fBits) & kMask));
      n9 += (w9 >>> eShift) - +(r[w9 & fMask]! < ((w9 >>> fBits) & kMask));
      n10 += (w10 >>> eShift) - +(r[w10 & fMask]! < ((w10 >>> fBits) & kMask));
      n11 += (w11 >>> eShift) - +(r[w11 & fMask]! < ((w11 >>> fBits) & kMask));
      n12 += (w12 >>> eShift) - +(r[w12 & fMask]! < ((w12 >>> fBits) & kMask));
      n13 += (w13 >>> eShift) - +(r[w13 & fMask]! < ((w13 >>> fBits) & kMask));
      n14 += (w14 >>> eShift) - +(r[w14 & fMask]! < ((w14 >>> fBits) & kMask));
      n15 += (w15 >>> eShift) - +(r[w15 & fMask]! < ((w15 >>> fBits) & kMask));
    }
    sum = f32(sum + value[n0]!);
    if (t + 1 < numTrees) sum = f32(sum + value[n1]!);
    if (t + 2 < numTrees) sum = f32(sum + value[n2]!);
    if (t + 3 < numTrees) sum = f32(sum + value[n3]!);
    if (t + 4 < numTrees) sum = f32(sum + value[n4]!);
    if (t + 5 < numTrees) sum = f32(sum + value[n5]!);
    if (t + 6 < numTrees) sum = f32(sum + value[n6]!);
    if (t + 7 < numTrees) sum = f32(sum + value[n7]!);
    if (t + 8 < numTrees) sum = f32(sum + value[n8]!);
    if (t + 9 < numTrees) sum = f32(sum + value[n9]!);
    if (t + 10 < numTrees) sum = f32(sum + value[n10]!);
    if (t + 11 < numTrees) sum = f32(sum + value[n11]!);
    if (t + 12 < numTrees) sum = f32(sum + value[n12]!);
    if (t + 13 < numTrees) sum = f32(sum + value[n13]!);
    if (t + 14 < numTrees) sum = f32(sum + value[n14]!);
    if (t + 15 < numTrees) sum = f32(sum + value[n15]!);
  }
  return sum;
}
