/** Holdout error measures shared by tenant, global and forecast models. */
import type { ErrorMetrics } from './model-spec.js';

/** RMSE, MAE and WAPE of `predicted` against `actual`. */
export function errorMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>): ErrorMetrics {
  const n = actual.length;
  let se = 0;
  let ae = 0;
  let sumActual = 0;
  for (let i = 0; i < n; i++) {
    const e = predicted[i]! - actual[i]!;
    se += e * e;
    ae += Math.abs(e);
    sumActual += Math.abs(actual[i]!);
  }
  return {
    rmse: n === 0 ? 0 : round(Math.sqrt(se / n)),
    mae: n === 0 ? 0 : round(ae / n),
    wape: sumActual === 0 ? null : round(ae / sumActual),
    rows: n,
  };
}

function round(x: number): number {
  return Number(x.toPrecision(8));
}
