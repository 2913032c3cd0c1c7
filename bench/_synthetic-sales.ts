/**
 * Seeded synthetic retail demand: daily unit sales per (store, product) with a
 * per-series level, a weekly pattern, a slow trend, price and promotion
 * effects and Poisson noise. Used by the training benchmark and the model tests.
 */

import { mulberry32, poisson as poissonSample } from '../test/support/seeded-random.js';

/** Shape of the generated data. */
export interface DemandOptions {
  seed: number;
  stores: number;
  products: number;
  days: number;
  /** First day, YYYY-MM-DD (default 2025-01-01). */
  start?: string;
  /** Multiplies every level (e.g. to plant an extreme pattern). */
  scale?: number;
}

/** One generated observation. */
export interface DemandRow {
  store: string;
  product: string;
  day: string;
  price: number;
  promo: boolean;
  units: number;
}

const seeded = mulberry32;

const poisson = (rnd: () => number, mean: number) => poissonSample(rnd, mean, 60);

const WEEKLY = [0.7, 0.9, 0.95, 1.0, 1.15, 1.5, 1.3];

/** Generates the rows in (store, product, day) order. */
export function demandRows(o: DemandOptions): DemandRow[] {
  const rnd = seeded(o.seed);
  const start = Date.parse(`${o.start ?? '2025-01-01'}T00:00:00Z`);
  const rows: DemandRow[] = [];
  for (let s = 0; s < o.stores; s++) {
    for (let p = 0; p < o.products; p++) {
      const level = (8 + 30 * rnd()) * (o.scale ?? 1);
      const basePrice = 2 + Math.round(rnd() * 800) / 100;
      const trend = (rnd() - 0.5) * 0.004;
      for (let d = 0; d < o.days; d++) {
        const time = start + d * 86_400_000;
        const dow = new Date(time).getUTCDay();
        const promo = rnd() < 0.1;
        const price = Math.round(basePrice * (promo ? 0.8 : 1) * 100) / 100;
        const mean = level * WEEKLY[dow]! * (1 + trend * d) * (promo ? 1.6 : 1);
        rows.push({ store: `s${s}`, product: `p${p}`, day: new Date(time).toISOString().slice(0, 10), price, promo, units: poisson(rnd, Math.max(0.1, mean)) });
      }
    }
  }
  return rows;
}

/** The rows as CSV with a header line. */
export function demandCsv(o: DemandOptions): string {
  const lines = ['store,product,day,price,promo,units'];
  for (const r of demandRows(o)) lines.push(`${r.store},${r.product},${r.day},${r.price},${r.promo},${r.units}`);
  return `${lines.join('\n')}\n`;
}
