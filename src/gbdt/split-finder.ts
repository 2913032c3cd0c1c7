/**
 * Best-split search over one node's gradient histogram: second-order gain
 * with L1/L2 regularisation, min_child_weight, learned missing direction, and
 * XGBoost's categorical splits (one-vs-rest for few categories, otherwise a
 * partition found by sorting categories by their gradient/hessian ratio).
 */
import type { BinnedMatrix } from './binning.js';

/** Regularisation settings the gain formula needs. */
export interface GainParams {
  lambda: number;
  alpha: number;
  maxDeltaStep: number;
  minChildWeight: number;
  maxCatToOnehot: number;
  maxCatThreshold: number;
}

/** The best split found for a node, or gain <= 0 when there is none. */
export interface SplitCandidate {
  gain: number;
  feature: number;
  /** Numeric: local bins <= bin go left. */
  bin: number;
  defaultLeft: boolean;
  /** Gradient and hessian sums of the left child (missing rows included when they go left). */
  leftG: number;
  leftH: number;
  /** Categorical: the local category codes that go right; null for numeric splits. */
  rightCategories: number[] | null;
}

/** Creates an empty candidate. */
export function emptySplit(): SplitCandidate {
  return { gain: 0, feature: -1, bin: 0, defaultLeft: false, leftG: 0, leftH: 0, rightCategories: null };
}

function thresholdL1(g: number, alpha: number): number {
  if (g > alpha) return g - alpha;
  if (g < -alpha) return g + alpha;
  return 0;
}

/** Optimal (unscaled) leaf weight for gradient sum g and hessian sum h. */
export function leafWeight(p: GainParams, g: number, h: number): number {
  if (h < p.minChildWeight || h <= 0) return 0;
  let w = -thresholdL1(g, p.alpha) / (h + p.lambda);
  if (p.maxDeltaStep !== 0 && Math.abs(w) > p.maxDeltaStep) w = w < 0 ? -p.maxDeltaStep : p.maxDeltaStep;
  return w;
}

/** The structure score of a node (XGBoost's CalcGain). */
export function nodeScore(p: GainParams, g: number, h: number): number {
  if (h <= 0) return 0;
  if (p.maxDeltaStep === 0) {
    const t = p.alpha === 0 ? g : thresholdL1(g, p.alpha);
    return (t * t) / (h + p.lambda);
  }
  const w = leafWeight(p, g, h);
  return -(2 * g * w + (h + p.lambda) * w * w);
}

/**
 * nodeScore for h > 0 with plain arguments: small and monomorphic, so V8
 * inlines it into the scan (this keeps Poisson's max_delta_step path fast).
 */
function regularizedScore(g: number, h: number, lambda: number, alpha: number, mds: number): number {
  const t = alpha === 0 ? g : g > alpha ? g - alpha : g < -alpha ? g + alpha : 0;
  const den = h + lambda;
  if (mds === 0) return (t * t) / den;
  let w = -t / den;
  if (w > mds) w = mds;
  else if (w < -mds) w = -mds;
  return -(2 * g * w + den * w * w);
}

/**
 * Scans every allowed feature of a node's histogram (interleaved g,h pairs)
 * and updates `best` in place when it finds a better split.
 */
export function findBestSplit(
  m: BinnedMatrix,
  hist: Float64Array,
  G: number,
  H: number,
  allowed: Uint8Array,
  p: GainParams,
  best: SplitCandidate,
): void {
  const parentScore = nodeScore(p, G, H);
  const mcw = p.minChildWeight;
  const simple = p.alpha === 0 && p.maxDeltaStep === 0;
  const lambda = p.lambda;
  const alpha = p.alpha;
  const mds = p.maxDeltaStep;
  for (let f = 0; f < m.numFeatures; f++) {
    if (allowed[f] === 0) continue;
    const off = m.offset[f]!;
    const missing = m.offset[f + 1]! - 1;
    const gm = hist[2 * missing]!;
    const hm = hist[2 * missing + 1]!;
    if (m.kinds[f] === 'categorical') {
      findCategoricalSplit(hist, off, missing - off, f, G, H, gm, hm, parentScore, p, best);
      continue;
    }
    const hasMissing = hm > 0;
    const lastBin = missing - off - (hasMissing ? 1 : 2);
    let gl = 0;
    let hl = 0;
    for (let b = 0; b <= lastBin; b++) {
      const i = 2 * (off + b);
      const h = hist[i + 1]!;
      if (h === 0) continue;
      gl += hist[i]!;
      hl += h;
      // The right side only shrinks from here on (missing rows included at best).
      if (H - hl < mcw) break;
      // Missing rows go right.
      let gr = G - gl;
      let hr = H - hl;
      if (hl >= mcw && hr > 0) {
        const gain = simple
          ? (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore
          : regularizedScore(gl, hl, lambda, alpha, mds) + regularizedScore(gr, hr, lambda, alpha, mds) - parentScore;
        if (gain > best.gain) set(best, gain, f, b, false, gl, hl);
      }
      if (hasMissing) {
        // Missing rows go left.
        const gl2 = gl + gm;
        const hl2 = hl + hm;
        gr = G - gl2;
        hr = H - hl2;
        if (hl2 >= mcw && hr >= mcw && hr > 0) {
          const gain = simple
            ? (gl2 * gl2) / (hl2 + lambda) + (gr * gr) / (hr + lambda) - parentScore
            : regularizedScore(gl2, hl2, lambda, alpha, mds) + regularizedScore(gr, hr, lambda, alpha, mds) - parentScore;
          if (gain > best.gain) set(best, gain, f, b, true, gl2, hl2);
        }
      }
    }
  }
}

function set(best: SplitCandidate, gain: number, f: number, bin: number, dl: boolean, gl: number, hl: number): void {
  best.gain = gain;
  best.feature = f;
  best.bin = bin;
  best.defaultLeft = dl;
  best.leftG = gl;
  best.leftH = hl;
  best.rightCategories = null;
}

function findCategoricalSplit(
  hist: Float64Array,
  off: number,
  numCats: number,
  f: number,
  G: number,
  H: number,
  gm: number,
  hm: number,
  parentScore: number,
  p: GainParams,
  best: SplitCandidate,
): void {
  const present: number[] = [];
  for (let c = 0; c < numCats; c++) if (hist[2 * (off + c) + 1]! > 0) present.push(c);
  if (present.length === 0) return;
  const hasMissing = hm > 0;
  // Evaluates "the categories in `right` go right"; missing goes right and, when present, left too.
  const consider = (gr: number, hr: number, right: () => number[]): void => {
    for (let dir = 0; dir < (hasMissing ? 2 : 1); dir++) {
      // dir 0: missing left (XGBoost's default for categorical nodes), dir 1: missing right.
      const grr = dir === 0 ? gr : gr + gm;
      const hrr = dir === 0 ? hr : hr + hm;
      const gl = G - grr;
      const hl = H - hrr;
      if (hl < p.minChildWeight || hrr < p.minChildWeight || hl <= 0 || hrr <= 0) continue;
      const gain = nodeScore(p, gl, hl) + nodeScore(p, grr, hrr) - parentScore;
      if (gain > best.gain) {
        best.gain = gain;
        best.feature = f;
        best.bin = 0;
        best.defaultLeft = dir === 0;
        best.leftG = gl;
        best.leftH = hl;
        best.rightCategories = right();
      }
    }
  };
  if (numCats < p.maxCatToOnehot) {
    for (const c of present) {
      const i = 2 * (off + c);
      consider(hist[i]!, hist[i + 1]!, () => [c]);
    }
    return;
  }
  // Partition split: sort categories by weight; the best partition is a prefix of that order.
  const weight = (c: number): number => hist[2 * (off + c)]! / (hist[2 * (off + c) + 1]! + p.lambda);
  present.sort((a, b) => weight(a) - weight(b) || a - b);
  const k = present.length;
  let gAcc = 0;
  let hAcc = 0;
  for (let j = k - 1; j >= 1; j--) {
    // The suffix present[j..] (largest weights) goes right.
    const c = present[j]!;
    gAcc += hist[2 * (off + c)]!;
    hAcc += hist[2 * (off + c) + 1]!;
    const size = k - j;
    if (size > p.maxCatThreshold && j > p.maxCatThreshold) continue;
    const from = j;
    consider(gAcc, hAcc, () => present.slice(from).sort((a, b) => a - b));
  }
}
