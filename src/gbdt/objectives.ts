/**
 * Loss functions: gradients and hessians for training, the link between the
 * output scale and the margin (summed leaves), and label checks. Formulas and
 * float32 rounding follow XGBoost 1.7 so exported models predict identically.
 */
import { errors } from '../errors.js';
import type { ObjectiveConfig, ObjectiveName } from './types.js';

const f32 = Math.fround;

/** Default objective settings (XGBoost defaults). */
export function objectiveConfig(name: ObjectiveName, overrides: Partial<ObjectiveConfig> = {}): ObjectiveConfig {
  return {
    name,
    tweedieVariancePower: overrides.tweedieVariancePower ?? 1.5,
    huberSlope: overrides.huberSlope ?? 1,
    maxDeltaStep: overrides.maxDeltaStep ?? (name === 'count:poisson' ? 0.7 : 0),
    scalePosWeight: overrides.scalePosWeight ?? 1,
  };
}

/** The link family: how margins map to outputs. */
export type LinkKind = 'identity' | 'log' | 'logit';
export const LINK_KINDS: readonly LinkKind[] = ['identity', 'log', 'logit'];

/** Which link an objective uses. */
export function linkOf(name: ObjectiveName): LinkKind {
  switch (name) {
    case 'count:poisson':
    case 'reg:tweedie':
      return 'log';
    case 'binary:logistic':
      return 'logit';
    default:
      return 'identity';
  }
}

/** The starting margin for a base score in output space, rounded as XGBoost rounds it. */
export function baseMarginOf(name: ObjectiveName, baseScore: number): number {
  const bs = f32(baseScore);
  switch (linkOf(name)) {
    case 'log':
      return f32(Math.log(bs));
    case 'logit':
      return f32(-Math.log(f32(f32(1 / bs) - 1)));
    default:
      return bs;
  }
}

/** Maps a float32 margin to the response scale (float32), as XGBoost's PredTransform. */
export function outputOf(link: LinkKind, margin: number): number {
  if (link === 'identity') return margin;
  if (link === 'log') return f32(Math.exp(margin));
  return sigmoid32(margin);
}

/** XGBoost's float32 sigmoid: 1 / (expf(min(-x, 88.7)) + 1 + 1e-16). */
export function sigmoid32(x: number): number {
  const e = f32(Math.exp(Math.min(-x, SIGMOID_CLAMP)));
  return f32(1 / f32(f32(e + 1) + SIGMOID_EPS));
}
const SIGMOID_CLAMP = f32(88.7);
const SIGMOID_EPS = f32(1e-16);

/** Rejects labels the objective cannot learn from, naming the first bad row. */
export function validateLabels(name: ObjectiveName, labels: Float32Array): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isFinite(y)) throw errors.validation(`label at row ${i} is not a finite number (${y})`, { row: i });
    if ((name === 'count:poisson' || name === 'reg:tweedie') && y < 0) {
      throw errors.validation(`label at row ${i} is negative (${y}); ${name} needs labels >= 0`, { row: i });
    }
    if (name === 'binary:logistic' && (y < 0 || y > 1)) {
      throw errors.validation(`label at row ${i} is ${y}; binary:logistic needs labels in [0, 1]`, { row: i });
    }
  }
}

/**
 * Writes first and second derivatives of the loss at each row's margin.
 * `weights` is null for unit weights.
 */
export function computeGradients(
  cfg: ObjectiveConfig,
  margin: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  grad: Float64Array,
  hess: Float64Array,
): void {
  const n = labels.length;
  switch (cfg.name) {
    case 'reg:squarederror':
      for (let i = 0; i < n; i++) {
        const w = weights === null ? 1 : weights[i]!;
        grad[i] = (margin[i]! - labels[i]!) * w;
        hess[i] = w;
      }
      return;
    case 'reg:absoluteerror':
      for (let i = 0; i < n; i++) {
        const w = weights === null ? 1 : weights[i]!;
        const d = margin[i]! - labels[i]!;
        grad[i] = (d > 0 ? 1 : d < 0 ? -1 : 0) * w;
        hess[i] = w;
      }
      return;
    case 'reg:pseudohubererror': {
      const slope = cfg.huberSlope;
      for (let i = 0; i < n; i++) {
        const w = weights === null ? 1 : weights[i]!;
        const z = margin[i]! - labels[i]!;
        const scale = 1 + (z / slope) * (z / slope);
        const scaleSqrt = Math.sqrt(scale);
        grad[i] = (z / scaleSqrt) * w;
        hess[i] = (1 / (scale * scaleSqrt)) * w;
      }
      return;
    }
    case 'count:poisson': {
      const mds = cfg.maxDeltaStep;
      for (let i = 0; i < n; i++) {
        const w = weights === null ? 1 : weights[i]!;
        const m = margin[i]!;
        grad[i] = (Math.exp(m) - labels[i]!) * w;
        hess[i] = Math.exp(m + mds) * w;
      }
      return;
    }
    case 'reg:tweedie': {
      const rho = cfg.tweedieVariancePower;
      for (let i = 0; i < n; i++) {
        const w = weights === null ? 1 : weights[i]!;
        const m = margin[i]!;
        const y = labels[i]!;
        const a = Math.exp((1 - rho) * m);
        const b = Math.exp((2 - rho) * m);
        grad[i] = (-y * a + b) * w;
        hess[i] = (-y * (1 - rho) * a + (2 - rho) * b) * w;
      }
      return;
    }
    case 'binary:logistic': {
      const spw = cfg.scalePosWeight;
      for (let i = 0; i < n; i++) {
        const y = labels[i]!;
        let w = weights === null ? 1 : weights[i]!;
        if (y === 1) w *= spw;
        const p = 1 / (1 + Math.exp(-margin[i]!));
        grad[i] = (p - y) * w;
        hess[i] = Math.max(p * (1 - p), 1e-16) * w;
      }
      return;
    }
  }
}
