/**
 * The array-walking predictor: the forest re-laid out into flat typed arrays
 * (children adjacent, so `right = left + 1`), walked with XGBoost's float32
 * rules: `fround(x) < threshold` goes left, NaN follows the learned default,
 * categories in the node's set go right, and leaves are summed in float32 in
 * tree order. Everything it holds is a typed array, so it can be posted to a
 * worker thread.
 *
 * A walk is a chain of dependent loads (node -> feature -> value -> child),
 * so one walk at a time leaves the CPU waiting. For numeric-only models the
 * walker descends 8 trees in lockstep for the same row: leaves point back to
 * themselves (child = id - 1 and a NaN threshold, so every test sends them
 * "right" onto themselves), the step is branch-free arithmetic, and the 8
 * independent chains overlap. Leaves are still summed in tree order, so the
 * float32 result is exactly the sequential one. One shared kernel serves
 * every model, so it is hot from the first call of a new model.
 */
import { errors } from '../errors.js';
import { baseMarginOf, linkOf, type LinkKind, outputOf } from './objectives.js';
import type { GbdtModel, NumericArray } from './types.js';

const f32 = Math.fround;
const BLOCK = 64;
/** Trees walked together by the lockstep kernel (the kernel is unrolled for this number). */
const LOCKSTEP = 8;

/** A compiled model that predicts single rows and row-major batches. */
export interface Predictor {
  readonly numFeatures: number;
  /** How single rows are evaluated: the array walker or generated JavaScript. */
  readonly kind: 'arrays' | 'js';
  /** Bytes held by the compiled form (add the model's own size for a cache budget). */
  readonly sizeBytes: number;
  /** Prediction on the response scale for one row; NaN marks a missing value. */
  predictRow(row: NumericArray, offset?: number): number;
  /** The raw margin (sum of leaves plus base margin) for one row. */
  predictMarginRow(row: NumericArray, offset?: number): number;
  /** Predictions for a row-major matrix of `features.length / numFeatures` rows. */
  predictBatch(features: NumericArray, out?: Float32Array): Float32Array;
  /** Margins for a row-major matrix. */
  predictMarginBatch(features: NumericArray, out?: Float32Array): Float32Array;
}

/** The walker's flat layout; plain typed arrays, so it can be posted to a worker. */
export interface CompiledForest {
  numFeatures: number;
  link: LinkKind;
  baseMargin: number;
  roots: Int32Array;
  /** Depth of each tree (steps from root to its deepest leaf). */
  treeDepth: Int32Array;
  /** Feature per node, -1 at leaves. */
  feature: Int32Array;
  /** Feature per node, 0 at leaves (for lockstep walks). */
  stepFeature: Int32Array;
  /** Threshold per node; NaN at leaves. */
  threshold: Float32Array;
  /** Leaf value at leaves, 0 elsewhere. */
  value: Float32Array;
  /** Id of the left child (the right child is the next node); id - 1 at leaves. */
  child: Int32Array;
  /** Where a missing value goes: 1 left, 0 right; 0 at leaves. */
  missLeft: Uint8Array;
  /** Deepest tree of each group of 8 consecutive trees. */
  groupDepth: Int32Array;
  /** For categorical nodes, the word offset of its category bitset in `catBits`; -1 otherwise. */
  catOffset: Int32Array;
  /** Number of 32-bit words in each categorical node's bitset. */
  catWords: Int32Array;
  catBits: Uint32Array;
  hasCategorical: boolean;
}

/** Re-lays a model's forest out for fast walking. */
export function compileForest(model: GbdtModel): CompiledForest {
  const f = model.forest;
  const total = f.left.length;
  const feature = new Int32Array(total);
  const stepFeature = new Int32Array(total);
  const threshold = new Float32Array(total);
  const value = new Float32Array(total);
  const child = new Int32Array(total);
  const missLeft = new Uint8Array(total);
  const catOffset = new Int32Array(total).fill(-1);
  const catWords = new Int32Array(total);
  const roots = new Int32Array(f.numTrees);
  const treeDepth = new Int32Array(f.numTrees);
  const catIndex = new Map<number, number>();
  f.catNodes.forEach((node, k) => {
    catIndex.set(node, k);
  });
  const bits: number[] = [];
  let next = 0;
  const queue: number[] = [];
  const depthOf: number[] = [];
  for (let t = 0; t < f.numTrees; t++) {
    const start = f.treeStart[t]!;
    roots[t] = next;
    queue.length = 0;
    depthOf.length = 0;
    queue.push(start);
    depthOf.push(0);
    const newId = new Map<number, number>([[start, next++]]);
    for (let qi = 0; qi < queue.length; qi++) {
      const g = queue[qi]!;
      const id = newId.get(g)!;
      const l = f.left[g]!;
      if (depthOf[qi]! > treeDepth[t]!) treeDepth[t] = depthOf[qi]!;
      if (l === -1) {
        feature[id] = -1;
        threshold[id] = Number.NaN;
        value[id] = f.value[g]!;
        child[id] = id - 1;
        continue;
      }
      feature[id] = f.feature[g]!;
      stepFeature[id] = f.feature[g]!;
      threshold[id] = f.value[g]!;
      missLeft[id] = f.defaultLeft[g] === 1 ? 1 : 0;
      child[id] = next;
      newId.set(start + l, next++);
      newId.set(start + f.right[g]!, next++);
      queue.push(start + l, start + f.right[g]!);
      depthOf.push(depthOf[qi]! + 1, depthOf[qi]! + 1);
      if (f.splitType[g] === 1) {
        const k = catIndex.get(g)!;
        const cats = f.categories.subarray(f.catStart[k]!, f.catStart[k]! + f.catSize[k]!);
        let max = -1;
        for (const c of cats) if (c > max) max = c;
        const words = (max >> 5) + 1;
        catOffset[id] = bits.length;
        catWords[id] = words;
        const base = bits.length;
        for (let w = 0; w < words; w++) bits.push(0);
        for (const c of cats) bits[base + (c >> 5)] = (bits[base + (c >> 5)]! | (1 << (c & 31))) >>> 0;
      }
    }
  }
  const groupDepth = new Int32Array(Math.ceil(f.numTrees / LOCKSTEP));
  for (let t = 0; t < f.numTrees; t++) {
    const g = Math.floor(t / LOCKSTEP);
    if (treeDepth[t]! > groupDepth[g]!) groupDepth[g] = treeDepth[t]!;
  }
  return {
    numFeatures: model.numFeatures,
    link: linkOf(model.objective.name),
    baseMargin: baseMarginOf(model.objective.name, model.baseScore),
    roots,
    treeDepth,
    feature: feature.slice(0, next),
    stepFeature: stepFeature.slice(0, next),
    threshold: threshold.slice(0, next),
    value: value.slice(0, next),
    child: child.slice(0, next),
    missLeft: missLeft.slice(0, next),
    groupDepth,
    catOffset: catOffset.slice(0, next),
    catWords: catWords.slice(0, next),
    catBits: Uint32Array.from(bits),
    hasCategorical: f.catNodes.length > 0,
  };
}

/** XGBoost's category test: only non-negative values below 2^24 can be in a set. */
export function inCategorySet(bits: Uint32Array, offset: number, words: number, x: number): boolean {
  if (!(x >= 0 && x < 16777216)) return false;
  const c = Math.trunc(x);
  const w = c >> 5;
  return w < words && (bits[offset + w]! & (1 << (c & 31))) !== 0;
}

/** Builds the array-walking predictor for a model. */
export function createArrayPredictor(model: GbdtModel): Predictor {
  return predictorFromCompiled(compileForest(model));
}

/** Builds the array-walking predictor from a compiled layout (e.g. one received from another thread). */
export function predictorFromCompiled(c: CompiledForest): Predictor {
  return wrapPredictor('arrays', c, rowMarginFunction(c), sizeOfCompiled(c));
}

/** The per-row margin function of the array walker. */
export function rowMarginFunction(c: CompiledForest): (x: NumericArray, o: number) => number {
  if (!c.hasCategorical) return (x, o) => lockstepMargin(c, x, o);
  const { roots, feature, threshold, value, child, missLeft, catOffset, catWords, catBits, baseMargin } = c;
  const numTrees = roots.length;
  return (x, o) => {
    let sum = baseMargin;
    for (let t = 0; t < numTrees; t++) {
      let n = roots[t]!;
      let f = feature[n]!;
      while (f >= 0) {
        const v = f32(x[o + f]!);
        if (Number.isNaN(v)) n = child[n]! + 1 - missLeft[n]!;
        else if (catOffset[n]! >= 0) n = child[n]! + (inCategorySet(catBits, catOffset[n]!, catWords[n]!, v) ? 1 : 0);
        else n = child[n]! + (v < threshold[n]! ? 0 : 1);
        f = feature[n]!;
      }
      sum = f32(sum + value[n]!);
    }
    return sum;
  };
}

/**
 * Margin of one row of a numeric-only model, 8 trees at a time. With
 * missing values the step is `child + ((1 - less) ^ (nan & missLeft))`:
 * left when less, right when not, and for NaN (never less) left exactly when
 * the node sends missing left.
 */
export function lockstepMargin(c: CompiledForest, x: NumericArray, o: number): number {
  for (let f = 0; f < c.numFeatures; f++) {
    if (Number.isNaN(f32(x[o + f]!))) return lockstepMarginWithMissing(c, x, o);
  }
  return lockstepMarginComplete(c, x, o);
}

/**
 * The common case, a row without missing values: the step is just
 * `child + !(x < threshold)` (leaves' NaN threshold keeps them in place).
 */
function lockstepMarginComplete(c: CompiledForest, x: NumericArray, o: number): number {
  const { roots, stepFeature: sf, threshold: th, value, child, groupDepth, feature } = c;
  const numTrees = roots.length;
  let sum = c.baseMargin;
  let t = 0;
  for (; t + 7 < numTrees; t += 8) {
    let n0 = roots[t]!;
    let n1 = roots[t + 1]!;
    let n2 = roots[t + 2]!;
    let n3 = roots[t + 3]!;
    let n4 = roots[t + 4]!;
    let n5 = roots[t + 5]!;
    let n6 = roots[t + 6]!;
    let n7 = roots[t + 7]!;
    const depth = groupDepth[t >> 3]!;
    for (let d = 0; d < depth; d++) {
      const v0 = f32(x[o + sf[n0]!]!);
      const v1 = f32(x[o + sf[n1]!]!);
      const v2 = f32(x[o + sf[n2]!]!);
      const v3 = f32(x[o + sf[n3]!]!);
      const v4 = f32(x[o + sf[n4]!]!);
      const v5 = f32(x[o + sf[n5]!]!);
      const v6 = f32(x[o + sf[n6]!]!);
      const v7 = f32(x[o + sf[n7]!]!);
      n0 = child[n0]! + +!(v0 < th[n0]!);
      n1 = child[n1]! + +!(v1 < th[n1]!);
      n2 = child[n2]! + +!(v2 < th[n2]!);
      n3 = child[n3]! + +!(v3 < th[n3]!);
      n4 = child[n4]! + +!(v4 < th[n4]!);
      n5 = child[n5]! + +!(v5 < th[n5]!);
      n6 = child[n6]! + +!(v6 < th[n6]!);
      n7 = child[n7]! + +!(v7 < th[n7]!);
    }
    sum = f32(sum + value[n0]!);
    sum = f32(sum + value[n1]!);
    sum = f32(sum + value[n2]!);
    sum = f32(sum + value[n3]!);
    sum = f32(sum + value[n4]!);
    sum = f32(sum + value[n5]!);
    sum = f32(sum + value[n6]!);
    sum = f32(sum + value[n7]!);
  }
  for (; t < numTrees; t++) {
    let n = roots[t]!;
    let f = feature[n]!;
    while (f >= 0) {
      n = child[n]! + +!(f32(x[o + f]!) < th[n]!);
      f = feature[n]!;
    }
    sum = f32(sum + value[n]!);
  }
  return sum;
}

/**
 * The complete-row kernel again, typed for Float32Array batches only: a
 * separate copy keeps V8's feedback monomorphic (rows from callers arrive as
 * plain arrays too) and skips the fround, as float32 inputs need none.
 */
function batchRowComplete(c: CompiledForest, x: Float32Array, o: number): number {
  const { roots, stepFeature: sf, threshold: th, value, child, groupDepth, feature } = c;
  const numTrees = roots.length;
  let sum = c.baseMargin;
  let t = 0;
  for (; t + 7 < numTrees; t += 8) {
    let n0 = roots[t]!;
    let n1 = roots[t + 1]!;
    let n2 = roots[t + 2]!;
    let n3 = roots[t + 3]!;
    let n4 = roots[t + 4]!;
    let n5 = roots[t + 5]!;
    let n6 = roots[t + 6]!;
    let n7 = roots[t + 7]!;
    const depth = groupDepth[t >> 3]!;
    for (let d = 0; d < depth; d++) {
      const v0 = x[o + sf[n0]!]!;
      const v1 = x[o + sf[n1]!]!;
      const v2 = x[o + sf[n2]!]!;
      const v3 = x[o + sf[n3]!]!;
      const v4 = x[o + sf[n4]!]!;
      const v5 = x[o + sf[n5]!]!;
      const v6 = x[o + sf[n6]!]!;
      const v7 = x[o + sf[n7]!]!;
      n0 = child[n0]! + +!(v0 < th[n0]!);
      n1 = child[n1]! + +!(v1 < th[n1]!);
      n2 = child[n2]! + +!(v2 < th[n2]!);
      n3 = child[n3]! + +!(v3 < th[n3]!);
      n4 = child[n4]! + +!(v4 < th[n4]!);
      n5 = child[n5]! + +!(v5 < th[n5]!);
      n6 = child[n6]! + +!(v6 < th[n6]!);
      n7 = child[n7]! + +!(v7 < th[n7]!);
    }
    sum = f32(sum + value[n0]!);
    sum = f32(sum + value[n1]!);
    sum = f32(sum + value[n2]!);
    sum = f32(sum + value[n3]!);
    sum = f32(sum + value[n4]!);
    sum = f32(sum + value[n5]!);
    sum = f32(sum + value[n6]!);
    sum = f32(sum + value[n7]!);
  }
  for (; t < numTrees; t++) {
    let n = roots[t]!;
    let f = feature[n]!;
    while (f >= 0) {
      n = child[n]! + +!(x[o + f]! < th[n]!);
      f = feature[n]!;
    }
    sum = f32(sum + value[n]!);
  }
  return sum;
}

function lockstepMarginWithMissing(c: CompiledForest, x: NumericArray, o: number): number {
  const { roots, stepFeature: sf, threshold: th, value, child, missLeft: ml, groupDepth, feature } = c;
  const numTrees = roots.length;
  let sum = c.baseMargin;
  let t = 0;
  for (; t + 7 < numTrees; t += 8) {
    let n0 = roots[t]!;
    let n1 = roots[t + 1]!;
    let n2 = roots[t + 2]!;
    let n3 = roots[t + 3]!;
    let n4 = roots[t + 4]!;
    let n5 = roots[t + 5]!;
    let n6 = roots[t + 6]!;
    let n7 = roots[t + 7]!;
    const depth = groupDepth[t >> 3]!;
    for (let d = 0; d < depth; d++) {
      const v0 = f32(x[o + sf[n0]!]!);
      const v1 = f32(x[o + sf[n1]!]!);
      const v2 = f32(x[o + sf[n2]!]!);
      const v3 = f32(x[o + sf[n3]!]!);
      const v4 = f32(x[o + sf[n4]!]!);
      const v5 = f32(x[o + sf[n5]!]!);
      const v6 = f32(x[o + sf[n6]!]!);
      const v7 = f32(x[o + sf[n7]!]!);
      n0 = child[n0]! + ((1 - +(v0 < th[n0]!)) ^ (+Number.isNaN(v0) & ml[n0]!));
      n1 = child[n1]! + ((1 - +(v1 < th[n1]!)) ^ (+Number.isNaN(v1) & ml[n1]!));
      n2 = child[n2]! + ((1 - +(v2 < th[n2]!)) ^ (+Number.isNaN(v2) & ml[n2]!));
      n3 = child[n3]! + ((1 - +(v3 < th[n3]!)) ^ (+Number.isNaN(v3) & ml[n3]!));
      n4 = child[n4]! + ((1 - +(v4 < th[n4]!)) ^ (+Number.isNaN(v4) & ml[n4]!));
      n5 = child[n5]! + ((1 - +(v5 < th[n5]!)) ^ (+Number.isNaN(v5) & ml[n5]!));
      n6 = child[n6]! + ((1 - +(v6 < th[n6]!)) ^ (+Number.isNaN(v6) & ml[n6]!));
      n7 = child[n7]! + ((1 - +(v7 < th[n7]!)) ^ (+Number.isNaN(v7) & ml[n7]!));
    }
    sum = f32(sum + value[n0]!);
    sum = f32(sum + value[n1]!);
    sum = f32(sum + value[n2]!);
    sum = f32(sum + value[n3]!);
    sum = f32(sum + value[n4]!);
    sum = f32(sum + value[n5]!);
    sum = f32(sum + value[n6]!);
    sum = f32(sum + value[n7]!);
  }
  for (; t < numTrees; t++) {
    let n = roots[t]!;
    let f = feature[n]!;
    while (f >= 0) {
      const v = f32(x[o + f]!);
      n = child[n]! + ((1 - +(v < th[n]!)) ^ (+Number.isNaN(v) & ml[n]!));
      f = feature[n]!;
    }
    sum = f32(sum + value[n]!);
  }
  return sum;
}

/** Margins of a float32 row-major batch. */
export function batchMargins(c: CompiledForest, x: Float32Array, rows: number, out: Float32Array): void {
  if (c.hasCategorical) {
    batchMarginsWalk(c, x, rows, out);
    return;
  }
  const nf = c.numFeatures;
  for (let r = 0, o = 0; r < rows; r++, o += nf) {
    let complete = true;
    for (let f = 0; f < nf; f++) {
      if (Number.isNaN(x[o + f]!)) {
        complete = false;
        break;
      }
    }
    out[r] = complete ? batchRowComplete(c, x, o) : lockstepMargin(c, x, o);
  }
}

function batchMarginsWalk(c: CompiledForest, x: Float32Array, rows: number, out: Float32Array): void {
  const { roots, feature, threshold, value, child, missLeft, catOffset, catWords, catBits, baseMargin, numFeatures: nf } = c;
  const numTrees = roots.length;
  const acc = new Float64Array(BLOCK);
  for (let start = 0; start < rows; start += BLOCK) {
    const count = Math.min(BLOCK, rows - start);
    acc.fill(baseMargin);
    for (let t = 0; t < numTrees; t++) {
      const root = roots[t]!;
      for (let i = 0, o = start * nf; i < count; i++, o += nf) {
        let n = root;
        let f = feature[n]!;
        while (f >= 0) {
          const v = x[o + f]!;
          if (Number.isNaN(v)) n = child[n]! + 1 - missLeft[n]!;
          else if (catOffset[n]! >= 0) n = child[n]! + (inCategorySet(catBits, catOffset[n]!, catWords[n]!, v) ? 1 : 0);
          else n = child[n]! + (v < threshold[n]! ? 0 : 1);
          f = feature[n]!;
        }
        acc[i] = f32(acc[i]! + value[n]!);
      }
    }
    for (let i = 0; i < count; i++) out[start + i] = acc[i]!;
  }
}

/** The buffers of a compiled layout, for `postMessage(c, transferablesOf(c))` to a worker thread. */
export function transferablesOf(c: CompiledForest): ArrayBuffer[] {
  const arrays = [c.roots, c.treeDepth, c.groupDepth, c.feature, c.stepFeature, c.threshold, c.value, c.child, c.missLeft, c.catOffset, c.catWords, c.catBits];
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}

/** Bytes held by a compiled layout. */
export function sizeOfCompiled(c: CompiledForest): number {
  let total = 128;
  for (const a of [c.roots, c.treeDepth, c.groupDepth, c.feature, c.stepFeature, c.threshold, c.value, c.child, c.missLeft, c.catOffset, c.catWords, c.catBits]) {
    total += a.byteLength;
  }
  return total;
}

/** Turns a per-row margin function and the batch kernel into a full Predictor with input checks. */
export function wrapPredictor(
  kind: 'arrays' | 'js',
  c: CompiledForest,
  margin: (x: NumericArray, offset: number) => number,
  sizeBytes: number,
  batch: (x: Float32Array, rows: number, out: Float32Array) => void = (x, rows, out) => batchMargins(c, x, rows, out),
): Predictor {
  const { numFeatures, link } = c;
  const checkRow = (row: NumericArray, offset: number): void => {
    if (row.length - offset < numFeatures) {
      throw errors.validation(`row has ${row.length - offset} features, the model needs ${numFeatures}`, {
        expected: numFeatures,
        got: row.length - offset,
      });
    }
  };
  const margins = (features: NumericArray, out: Float32Array | undefined): Float32Array => {
    if (features.length % numFeatures !== 0) {
      throw errors.validation(`batch of ${features.length} values is not a whole number of rows of ${numFeatures} features`, {
        expected: numFeatures,
      });
    }
    const rows = features.length / numFeatures;
    let result = out;
    if (result === undefined) result = new Float32Array(rows);
    else if (result.length < rows) throw errors.validation(`output buffer holds ${result.length} values, batch has ${rows} rows`);
    batch(features instanceof Float32Array ? features : Float32Array.from(features), rows, result);
    return result;
  };
  return {
    numFeatures,
    kind,
    sizeBytes,
    predictRow(row, offset = 0) {
      checkRow(row, offset);
      return outputOf(link, margin(row, offset));
    },
    predictMarginRow(row, offset = 0) {
      checkRow(row, offset);
      return margin(row, offset);
    },
    predictBatch(features, out) {
      const result = margins(features, out);
      if (link !== 'identity') {
        const rows = features.length / numFeatures;
        for (let r = 0; r < rows; r++) result[r] = outputOf(link, result[r]!);
      }
      return result;
    },
    predictMarginBatch(features, out) {
      return margins(features, out);
    },
  };
}
