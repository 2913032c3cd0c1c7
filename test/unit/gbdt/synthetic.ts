/** Seeded synthetic data for the gbdt tests. */

import { mulberry32 } from '../../support/seeded-random.js';

/** A seeded uniform generator (mulberry32). */
export const seeded = mulberry32;

/** Standard normal via Box-Muller; Poisson samples (exact, Knuth). */
export { gaussian as normal, poisson } from '../../support/seeded-random.js';

/** A row-major matrix of uniform features in [0, 1) and the signal each row carries. */
export interface Synthetic {
  features: Float32Array;
  numFeatures: number;
  rows: number;
  /** The noiseless signal per row (on whatever scale the caller needs). */
  signal: Float64Array;
}

/** Uniform features; signal = 2 sin(3 x0) + 1.5 x1 + (x2 > 0.5 ? 1 : 0). */
export function makeFeatures(rows: number, numFeatures: number, seed: number): Synthetic {
  const rnd = seeded(seed);
  const features = new Float32Array(rows * numFeatures);
  const signal = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < numFeatures; f++) features[r * numFeatures + f] = rnd();
    const x = (f: number) => features[r * numFeatures + f]!;
    signal[r] = 2 * Math.sin(3 * x(0)) + 1.5 * x(1) + (x(2) > 0.5 ? 1 : 0);
  }
  return { features, numFeatures, rows, signal };
}

/** Root mean squared error. */
export function rmse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s / a.length);
}

/** Mean absolute error. */
export function mae(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

/** Pearson correlation. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
