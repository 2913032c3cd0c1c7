/**
 * The array-walking predictor: the forest re-laid out into a few flat typed
 * arrays (children adjacent, so `right = left + 1`), walked with XGBoost's
 * float32 rules: `fround(x) < threshold` goes left, NaN follows the learned
 * default, categories in the node's set go right, and leaves are summed in
 * float32 in tree order. Everything it holds is transferable to a worker.
 */
import { errors } from '../errors.js';
import { baseMarginOf, linkOf, type LinkKind, outputOf } from './objectives.js';
import type { GbdtModel, NumericArray } from './types.js';

const f32 = Math.fround;

/** A compiled model that predicts single rows and row-major batches. */
export interface Predictor {
  readonly numFeatures: number;
  /** How it was compiled: an array walker or generated JavaScript. */
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
  /** Feature per node, -1 at leaves. */
  feature: Int32Array;
  /** Threshold, or leaf value at leaves. */
  value: Float32Array;
  /** Id of the left child; the right child is the next node. */
  child: Int32Array;
  defaultLeft: Uint8Array;
  /** For categorical nodes, the word offset of its category bitset in `catBits`; -1 for numeric nodes. */
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
  const value = new Float32Array(total);
  const child = new Int32Array(total);
  const defaultLeft = new Uint8Array(total);
  const catOffset = new Int32Array(total).fill(-1);
  const catWords = new Int32Array(total);
  const roots = new Int32Array(f.numTrees);
  const catIndex = new Map<number, number>();
  f.catNodes.forEach((node, k) => catIndex.set(node, k));
  const bits: number[] = [];
  let next = 0;
  const queue: number[] = [];
  for (let t = 0; t < f.numTrees; t++) {
    const start = f.treeStart[t]!;
    roots[t] = next;
    queue.length = 0;
    queue.push(start);
    const newId = new Map<number, number>([[start, next++]]);
    for (let qi = 0; qi < queue.length; qi++) {
      const g = queue[qi]!;
      const id = newId.get(g)!;
      const l = f.left[g]!;
      if (l === -1) {
        feature[id] = -1;
        value[id] = f.value[g]!;
        continue;
      }
      feature[id] = f.feature[g]!;
      value[id] = f.value[g]!;
      defaultLeft[id] = f.defaultLeft[g]!;
      child[id] = next;
      newId.set(start + l, next++);
      newId.set(start + f.right[g]!, next++);
      queue.push(start + l, start + f.right[g]!);
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
  return {
    numFeatures: model.numFeatures,
    link: linkOf(model.objective.name),
    baseMargin: baseMarginOf(model.objective.name, model.baseScore),
    roots,
    feature: feature.slice(0, next),
    value: value.slice(0, next),
    child: child.slice(0, next),
    defaultLeft: defaultLeft.slice(0, next),
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
  const { roots, feature, value, child, defaultLeft, catOffset, catWords, catBits, baseMargin, link, numFeatures } = c;
  const numTrees = roots.length;
  const margin = c.hasCategorical
    ? (x: NumericArray, o: number): number => {
        let sum = baseMargin;
        for (let t = 0; t < numTrees; t++) {
          let n = roots[t]!;
          let f: number;
          while ((f = feature[n]!) >= 0) {
            const v = f32(x[o + f]!);
            if (v !== v) n = child[n]! + 1 - defaultLeft[n]!;
            else if (catOffset[n]! >= 0) n = child[n]! + (inCategorySet(catBits, catOffset[n]!, catWords[n]!, v) ? 1 : 0);
            else n = child[n]! + (v < value[n]! ? 0 : 1);
          }
          sum = f32(sum + value[n]!);
        }
        return sum;
      }
    : (x: NumericArray, o: number): number => {
        let sum = baseMargin;
        for (let t = 0; t < numTrees; t++) {
          let n = roots[t]!;
          let f: number;
          while ((f = feature[n]!) >= 0) {
            const v = f32(x[o + f]!);
            n = child[n]! + (v < value[n]! ? 0 : v >= value[n]! ? 1 : 1 - defaultLeft[n]!);
          }
          sum = f32(sum + value[n]!);
        }
        return sum;
      };
  return wrapMarginFunction('arrays', numFeatures, link, margin, sizeOfCompiled(c));
}

function sizeOfCompiled(c: CompiledForest): number {
  return (
    c.roots.byteLength +
    c.feature.byteLength +
    c.value.byteLength +
    c.child.byteLength +
    c.defaultLeft.byteLength +
    c.catOffset.byteLength +
    c.catWords.byteLength +
    c.catBits.byteLength +
    128
  );
}

/** Turns a per-row margin function into a full Predictor with input checks. */
export function wrapMarginFunction(
  kind: 'arrays' | 'js',
  numFeatures: number,
  link: LinkKind,
  margin: (x: NumericArray, offset: number) => number,
  sizeBytes: number,
): Predictor {
  const checkRow = (row: NumericArray, offset: number): void => {
    if (row.length - offset < numFeatures) {
      throw errors.validation(`row has ${row.length - offset} features, the model needs ${numFeatures}`, {
        expected: numFeatures,
        got: row.length - offset,
      });
    }
  };
  const rowsOf = (features: NumericArray): number => {
    if (numFeatures === 0 || features.length % numFeatures !== 0) {
      throw errors.validation(`batch of ${features.length} values is not a whole number of rows of ${numFeatures} features`, {
        expected: numFeatures,
      });
    }
    return features.length / numFeatures;
  };
  const outFor = (rows: number, out: Float32Array | undefined): Float32Array => {
    if (out === undefined) return new Float32Array(rows);
    if (out.length < rows) throw errors.validation(`output buffer holds ${out.length} values, batch has ${rows} rows`);
    return out;
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
      const rows = rowsOf(features);
      const result = outFor(rows, out);
      for (let r = 0; r < rows; r++) result[r] = outputOf(link, margin(features, r * numFeatures));
      return result;
    },
    predictMarginBatch(features, out) {
      const rows = rowsOf(features);
      const result = outFor(rows, out);
      for (let r = 0; r < rows; r++) result[r] = margin(features, r * numFeatures);
      return result;
    },
  };
}
