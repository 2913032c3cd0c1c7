/**
 * Quantile binning: turns a float feature matrix into small integer bin
 * indices once per training run, so every histogram is a pass over bytes.
 *
 * Numeric feature f gets sorted float32 cut points `cuts`: value x falls in
 * the first bin b with x < cuts[b] (XGBoost's upper-bound rule), so a split
 * "bins <= b go left" is exactly the predictor's test `x < cuts[b]`.
 * Categorical features use the category code itself as the bin. Every
 * feature also owns one trailing "missing" bin, so missing-value statistics
 * come straight out of the histogram.
 */
import { errors } from '../errors.js';
import type { FeatureKind } from './types.js';

/** Largest category code accepted for a categorical feature. */
export const MAX_CATEGORY = 65535;

/** The binned training matrix and the cut points that define it. */
export interface BinnedMatrix {
  numRows: number;
  numFeatures: number;
  /** Row-major global bin ids: bins[r * numFeatures + f] is in [offset[f], offset[f+1]). */
  bins: Uint16Array | Uint32Array;
  /** Length numFeatures + 1; the missing bin of f is offset[f+1] - 1. */
  offset: Int32Array;
  /** Per numeric feature, its cut points (empty for categorical features). */
  cuts: Float32Array[];
  kinds: FeatureKind[];
  /** Total bins over all features, missing bins included. */
  totalBins: number;
}

/**
 * Bins a row-major float32 matrix. `maxBin` bounds the number of value bins
 * per numeric feature.
 */
export function buildBinnedMatrix(
  x: Float32Array,
  numRows: number,
  numFeatures: number,
  kinds: FeatureKind[],
  maxBin: number,
): BinnedMatrix {
  const cuts: Float32Array[] = [];
  const numBins = new Int32Array(numFeatures);
  const column = new Float32Array(numRows);
  for (let f = 0; f < numFeatures; f++) {
    let count = 0;
    let maxCat = -1;
    for (let r = 0; r < numRows; r++) {
      const v = x[r * numFeatures + f]!;
      if (Number.isNaN(v)) continue;
      column[count++] = v;
      if (kinds[f] === 'categorical') {
        if (!(v >= 0 && v <= MAX_CATEGORY && Number.isInteger(v))) {
          throw errors.validation(
            `feature ${f} is categorical but row ${r} holds ${v}; categories must be integers in [0, ${MAX_CATEGORY}]`,
            { feature: f, row: r },
          );
        }
        if (v > maxCat) maxCat = v;
      }
    }
    if (kinds[f] === 'categorical') {
      cuts.push(new Float32Array(0));
      numBins[f] = maxCat + 1;
    } else {
      const c = numericCuts(column.subarray(0, count), maxBin);
      cuts.push(c);
      numBins[f] = c.length;
    }
  }
  const offset = new Int32Array(numFeatures + 1);
  for (let f = 0; f < numFeatures; f++) offset[f + 1] = offset[f]! + numBins[f]! + 1;
  const totalBins = offset[numFeatures]!;
  const bins = totalBins <= 65536 ? new Uint16Array(numRows * numFeatures) : new Uint32Array(numRows * numFeatures);
  for (let f = 0; f < numFeatures; f++) {
    const off = offset[f]!;
    const missing = offset[f + 1]! - 1;
    const c = cuts[f]!;
    const categorical = kinds[f] === 'categorical';
    for (let r = 0; r < numRows; r++) {
      const i = r * numFeatures + f;
      const v = x[i]!;
      bins[i] = Number.isNaN(v) ? missing : categorical ? off + v : off + binOf(c, v);
    }
  }
  return { numRows, numFeatures, bins, offset, cuts, kinds, totalBins };
}

/** Index of the first cut greater than v, clamped to the last bin. */
export function binOf(cuts: Float32Array, v: number): number {
  let lo = 0;
  let hi = cuts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v < cuts[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Cut points for one numeric column: every distinct value when there are at
 * most maxBin of them, else values at evenly spaced ranks; the last cut lies
 * beyond the maximum, as in XGBoost.
 */
function numericCuts(values: Float32Array, maxBin: number): Float32Array {
  if (values.length === 0) return Float32Array.of(Number.POSITIVE_INFINITY);
  values.sort();
  let distinct = 1;
  for (let i = 1; i < values.length; i++) if (values[i] !== values[i - 1]) distinct++;
  const out: number[] = [];
  if (distinct <= maxBin) {
    for (let i = 1; i < values.length; i++) if (values[i] !== values[i - 1]) out.push(values[i]!);
  } else {
    const n = values.length;
    const min = values[0]!;
    for (let j = 1; j < maxBin; j++) {
      const v = values[Math.floor((j * n) / maxBin)]!;
      if (v > min && (out.length === 0 || v > out[out.length - 1]!)) out.push(v);
    }
  }
  const last = values[values.length - 1]!;
  out.push(Math.fround(last + (Math.abs(last) + 1e-5)));
  return Float32Array.from(out);
}
