/**
 * The per-row walking kernels behind the array predictor (see predictor.ts
 * for why they walk 8 trees in lockstep; batches are in batch-kernels.ts). Every kernel sums leaves in float32 in
 * tree order, so all of them return exactly XGBoost's margin.
 */
import { type CompiledForest, inCategorySet } from './compiled-forest.js';
import { packedRowMargin } from './packed-walk.js';
import type { NumericArray } from './types.js';

const f32 = Math.fround;

/** The margin of one row with the array walker. */
export function rowMargin(c: CompiledForest, x: NumericArray, o: number): number {
  return c.hasCategorical ? categoricalRowMargin(c, x, o) : lockstepMargin(c, x, o);
}

/** One row of a model with categorical splits: one tree at a time. */
function categoricalRowMargin(c: CompiledForest, x: NumericArray, o: number): number {
  const { roots, stepFeature: sf, threshold, value, child, missLeft, catOffset, catWords, catBits } = c;
  const numTrees = roots.length;
  let sum = c.baseMargin;
  for (let t = 0; t < numTrees; t++) {
    let n = roots[t]!;
    while (child[n]! > n) {
      const f = sf[n]!;
      const v = f32(x[o + f]!);
      if (Number.isNaN(v)) n = child[n]! + 1 - missLeft[n]!;
      else if (catOffset[n]! >= 0) n = child[n]! + (inCategorySet(catBits, catOffset[n]!, catWords[n]!, v) ? 1 : 0);
      else n = child[n]! + (v < threshold[n]! ? 0 : 1);
    }
    sum = f32(sum + value[n]!);
  }
  return sum;
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
  return c.walk.trees > 0 ? packedRowMargin(c, x, o) : lockstepMarginComplete(c, x, o);
}

/**
 * The common case, a row without missing values: the step is just
 * `child + !(x < threshold)` (leaves' NaN threshold keeps them in place).
 */
function lockstepMarginComplete(c: CompiledForest, x: NumericArray, o: number): number {
  const { roots, stepFeature: sf, threshold: th, value, child, groupDepth } = c;
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
    while (child[n]! > n) {
      const f = sf[n]!;
      n = child[n]! + +!(f32(x[o + f]!) < th[n]!);
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
export function batchRowComplete(c: CompiledForest, x: Float32Array, o: number): number {
  const { roots, stepFeature: sf, threshold: th, value, child, groupDepth } = c;
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
    while (child[n]! > n) {
      const f = sf[n]!;
      n = child[n]! + +!(x[o + f]! < th[n]!);
    }
    sum = f32(sum + value[n]!);
  }
  return sum;
}

function lockstepMarginWithMissing(c: CompiledForest, x: NumericArray, o: number): number {
  const { roots, stepFeature: sf, threshold: th, value, child, missLeft: ml, groupDepth } = c;
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
    while (child[n]! > n) {
      const f = sf[n]!;
      const v = f32(x[o + f]!);
      n = child[n]! + ((1 - +(v < th[n]!)) ^ (+Number.isNaN(v) & ml[n]!));
    }
    sum = f32(sum + value[n]!);
  }
  return sum;
}
