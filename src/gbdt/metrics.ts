/**
 * Evaluation metrics on the response scale, as XGBoost defines them; all are
 * "lower is better", which early stopping relies on.
 */
import type { EvalMetricName } from './params.js';
import type { ObjectiveConfig } from './types.js';

/** Weighted mean of the metric over rows (`pred` on the response scale). */
export function evaluateMetric(
  metric: EvalMetricName,
  cfg: ObjectiveConfig,
  pred: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
): number {
  let sum = 0;
  let wsum = 0;
  const n = labels.length;
  const rho = cfg.tweedieVariancePower;
  const slope = cfg.huberSlope;
  for (let i = 0; i < n; i++) {
    const w = weights === null ? 1 : weights[i]!;
    const y = labels[i]!;
    const p = pred[i]!;
    let loss: number;
    switch (metric) {
      case 'rmse':
        loss = (p - y) * (p - y);
        break;
      case 'mae':
        loss = Math.abs(p - y);
        break;
      case 'mphe': {
        const z = (p - y) / slope;
        loss = slope * slope * (Math.sqrt(1 + z * z) - 1);
        break;
      }
      case 'logloss': {
        const q = Math.min(Math.max(p, 1e-16), 1 - 1e-16);
        loss = -(y * Math.log(q) + (1 - y) * Math.log(1 - q));
        break;
      }
      case 'error':
        loss = (p > 0.5 ? 1 : 0) !== y ? 1 : 0;
        break;
      case 'poisson-nloglik': {
        const q = Math.max(p, 1e-16);
        loss = logGamma(y + 1) + q - Math.log(q) * y;
        break;
      }
      case 'tweedie-nloglik': {
        const q = Math.max(p, 1e-16);
        const a = (y * Math.exp((1 - rho) * Math.log(q))) / (1 - rho);
        const b = Math.exp((2 - rho) * Math.log(q)) / (2 - rho);
        loss = -a + b;
        break;
      }
    }
    sum += loss * w;
    wsum += w;
  }
  const mean = wsum > 0 ? sum / wsum : 0;
  return metric === 'rmse' ? Math.sqrt(mean) : mean;
}

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos approximation, ~1e-13 relative error). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = 0.99999999999980993;
  const t = z + 7.5;
  for (let i = 0; i < 8; i++) a += LANCZOS[i]! / (z + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}
