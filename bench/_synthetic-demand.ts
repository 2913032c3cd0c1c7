/**
 * A seeded synthetic multi-tenant demand dataset, shared by benchmarks.
 *
 * Each tenant sells a few items; each item is a daily count series with
 * weekly and yearly seasonality, holidays, promotions, price changes with
 * elasticity, a slow random-walk level and Poisson noise. Rows carry lag
 * features (missing at the start of a series), so the data has NaNs the way
 * real lag features do. Tenants differ in scale, seasonality and promo lift.
 */

import { gaussian, mulberry32, poisson as poissonSample } from '../test/support/seeded-random.js';

/** Column names, in feature order. */
export const DEMAND_FEATURES = [
  'item',
  'day_of_week',
  'day_of_year',
  'holiday',
  'promo',
  'price',
  'discount_pct',
  'lag_7',
  'lag_28',
  'rolling_mean_28',
] as const;

/** One tenant's rows, split by time into training and holdout. */
export interface TenantDemand {
  tenant: number;
  /** Row-major, DEMAND_FEATURES.length columns. */
  trainFeatures: Float32Array;
  trainLabels: Float32Array;
  holdoutFeatures: Float32Array;
  holdoutLabels: Float32Array;
}

/** Sizes of the generated data. */
export interface DemandConfig {
  tenants: number;
  /** Training rows per tenant (spread over its items). */
  trainRows: number;
  /** Holdout rows per tenant (the days after the training period). */
  holdoutRows: number;
  itemsPerTenant?: number;
  seed?: number;
}

const rng = mulberry32;

const poisson = (rnd: () => number, mean: number) => poissonSample(rnd, mean, 30);

const gauss = gaussian;

/** Generates every tenant's data; the same config always gives the same numbers. */
export function generateDemand(config: DemandConfig): TenantDemand[] {
  const items = config.itemsPerTenant ?? 5;
  const trainDays = Math.ceil(config.trainRows / items);
  const holdoutDays = Math.ceil(config.holdoutRows / items);
  const days = trainDays + holdoutDays;
  const nf = DEMAND_FEATURES.length;
  const out: TenantDemand[] = [];
  for (let t = 0; t < config.tenants; t++) {
    // Each tenant has its own stream, so its data does not depend on how many tenants exist.
    const rnd = rng((config.seed ?? 1) * 1000003 + t * 7919);
    const scale = Math.exp(1 + 2 * rnd());
    const weekly = Array.from({ length: 7 }, () => Math.exp(0.3 * gauss(rnd)));
    const yearlyAmp = 0.1 + 0.4 * rnd();
    const yearlyPhase = 2 * Math.PI * rnd();
    const promoLift = 1.2 + rnd();
    const elasticity = -0.5 - 1.5 * rnd();
    const holidays = new Set(Array.from({ length: 12 }, () => Math.floor(rnd() * 365)));
    const rows: { day: number; x: number[]; y: number }[] = [];
    for (let item = 0; item < items; item++) {
      const itemScale = scale * Math.exp(0.5 * gauss(rnd));
      const basePrice = 2 + 20 * rnd();
      let level = 0;
      const history: number[] = [];
      for (let d = 0; d < days; d++) {
        const doy = d % 365;
        const dow = d % 7;
        const holiday = holidays.has(doy) ? 1 : 0;
        const promo = rnd() < 0.1 ? 1 : 0;
        const discount = promo ? 0.1 + 0.3 * rnd() : rnd() < 0.05 ? 0.05 : 0;
        const price = basePrice * (1 - discount) * (1 + 0.02 * gauss(rnd));
        level = 0.98 * level + 0.05 * gauss(rnd);
        const mean =
          itemScale *
          weekly[dow]! *
          (1 + yearlyAmp * Math.sin((2 * Math.PI * doy) / 365 + yearlyPhase)) *
          (promo ? promoLift : 1) *
          (holiday ? 1.8 : 1) *
          (price / basePrice) ** elasticity *
          Math.exp(level);
        const y = poisson(rnd, mean);
        const lag = (k: number): number => (d >= k ? history[d - k]! : Number.NaN);
        let rolling = Number.NaN;
        if (d >= 28) {
          let s = 0;
          for (let k = 1; k <= 28; k++) s += history[d - k]!;
          rolling = s / 28;
        }
        history.push(y);
        rows.push({ day: d, x: [item, dow, doy, holiday, promo, price, discount * 100, lag(7), lag(28), rolling], y });
      }
    }
    const pack = (subset: typeof rows, limit: number): [Float32Array, Float32Array] => {
      const n = Math.min(limit, subset.length);
      const x = new Float32Array(n * nf);
      const y = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        x.set(subset[i]!.x, i * nf);
        y[i] = subset[i]!.y;
      }
      return [x, y];
    };
    const [trainFeatures, trainLabels] = pack(rows.filter((r) => r.day < trainDays), config.trainRows);
    const [holdoutFeatures, holdoutLabels] = pack(rows.filter((r) => r.day >= trainDays), config.holdoutRows);
    out.push({ tenant: t, trainFeatures, trainLabels, holdoutFeatures, holdoutLabels });
  }
  return out;
}
