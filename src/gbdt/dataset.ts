/**
 * Input checks and conversion: every public entry point turns user arrays
 * into float32 row-major matrices here, with errors that name the problem.
 */
import { errors } from '../errors.js';
import type { Dataset, FeatureKind } from './types.js';

/** A checked dataset in float32. */
export interface CheckedDataset {
  x: Float32Array;
  labels: Float32Array;
  weights: Float32Array | null;
  numRows: number;
  numFeatures: number;
}

/** Validates shapes and values and copies the data to float32; `what` names the set in messages. */
export function checkDataset(data: Dataset, what = 'training data'): CheckedDataset {
  if (data === null || typeof data !== 'object') throw errors.validation(`${what} is missing`);
  const F = data.numFeatures;
  if (!Number.isInteger(F) || F < 1) throw errors.validation(`${what}: numFeatures must be a positive integer, got ${String(F)}`);
  const n = data.labels?.length ?? 0;
  if (n === 0) throw errors.validation(`${what} is empty: it has no rows`);
  if (data.features?.length !== n * F) {
    throw errors.validation(
      `${what}: feature matrix has ${data.features?.length ?? 0} values, expected ${n} rows x ${F} features = ${n * F}`,
      { rows: n, numFeatures: F },
    );
  }
  const x = Float32Array.from(data.features);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
      const row = Math.floor(i / F);
      throw errors.validation(`${what}: feature ${i % F} of row ${row} is infinite; use NaN for a missing value`, { row, feature: i % F });
    }
  }
  const labels = Float32Array.from(data.labels);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(labels[i]!)) throw errors.validation(`${what}: label of row ${i} is not a finite number (${labels[i]})`, { row: i });
  }
  let weights: Float32Array | null = null;
  if (data.weights !== undefined) {
    if (data.weights.length !== n) throw errors.validation(`${what}: ${data.weights.length} weights for ${n} rows`);
    weights = Float32Array.from(data.weights);
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (!(w >= 0 && Number.isFinite(w))) throw errors.validation(`${what}: weight of row ${i} must be finite and >= 0, got ${w}`, { row: i });
    }
  }
  return { x, labels, weights, numRows: n, numFeatures: F };
}

/** Checks or defaults the per-feature kinds. */
export function checkFeatureKinds(kinds: readonly FeatureKind[] | undefined, numFeatures: number): FeatureKind[] {
  if (kinds === undefined) return new Array<FeatureKind>(numFeatures).fill('numeric');
  if (kinds.length !== numFeatures) throw errors.validation(`featureKinds has ${kinds.length} entries for ${numFeatures} features`);
  for (const k of kinds) {
    if (k !== 'numeric' && k !== 'categorical') throw errors.validation(`unknown feature kind '${String(k)}'; use numeric or categorical`);
  }
  return [...kinds];
}

/** Checks or defaults the feature names ([] = unnamed, as XGBoost). */
export function checkFeatureNames(names: readonly string[] | undefined, numFeatures: number): string[] {
  if (names === undefined || names.length === 0) return [];
  if (names.length !== numFeatures) throw errors.validation(`featureNames has ${names.length} entries for ${numFeatures} features`);
  if (new Set(names).size !== names.length) throw errors.validation('featureNames contains duplicates');
  return names.map(String);
}

/** Converts an array of row arrays (null/undefined = missing) to a row-major float32 matrix. */
export function matrixFromRows(rows: readonly (readonly (number | null | undefined)[])[], numFeatures?: number): Float32Array {
  const F = numFeatures ?? rows[0]?.length ?? 0;
  const out = new Float32Array(rows.length * F);
  rows.forEach((row, r) => {
    if (row.length !== F) throw errors.validation(`row ${r} has ${row.length} features, expected ${F}`, { row: r });
    for (let f = 0; f < F; f++) {
      const v = row[f];
      out[r * F + f] = v === null || v === undefined ? Number.NaN : v;
    }
  });
  return out;
}

