/**
 * Time-series features for demand forecasting. A dataset is cut into series
 * (one per distinct value of the series-key columns), each sorted by date.
 * The value at position t is predicted from: the series keys (categorical),
 * target lags y[t-l], rolling means of y over the previous w observations,
 * and calendar features of t's date (day of week, day of month, month, day of
 * year). Forecasting several steps is recursive: each prediction becomes
 * history for the next step's lags and means.
 */
import type { Column, StoredValue } from '../data/column-types.js';
import { parseDateMs } from './feature-encoding.js';
import type { FeatureSpec, ForecastSpec } from './model-spec.js';
import type { MatrixSet } from './tabular-sets.js';
import { labelOf } from './tabular-sets.js';
import type { ForecastRequest } from './train-request.js';

const DAY_MS = 86_400_000;
const CALENDAR = ['day_of_week', 'day_of_month', 'month', 'day_of_year'] as const;

/** One series: its key values and its observations in date order. */
export interface Series {
  key: StoredValue[];
  keyText: string;
  times: number[];
  values: number[];
}

/** Canonical text of a series key (for lookups and ordering). */
export function seriesKeyText(values: readonly unknown[]): string {
  return JSON.stringify(values.map((v) => (v === null || v === undefined ? null : String(v))));
}

/** Groups rows into series sorted by key; rows missing the date or the target are skipped. */
export function groupSeries(columns: readonly Column[], rows: readonly StoredValue[][], seriesKeys: readonly string[], dateColumn: string, target: string): Series[] {
  const keyIdx = seriesKeys.map((k) => columns.findIndex((c) => c.name === k));
  const dateIdx = columns.findIndex((c) => c.name === dateColumn);
  const targetIdx = columns.findIndex((c) => c.name === target);
  const byKey = new Map<string, { key: StoredValue[]; points: [number, number][] }>();
  for (const row of rows) {
    const y = labelOf(row[targetIdx]);
    const d = row[dateIdx];
    if (y === null || typeof d !== 'string') continue;
    const t = parseDateMs(d);
    if (Number.isNaN(t)) continue;
    const key = keyIdx.map((i) => row[i] ?? null);
    const text = seriesKeyText(key);
    let s = byKey.get(text);
    if (!s) {
      s = { key, points: [] };
      byKey.set(text, s);
    }
    s.points.push([t, y]);
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([keyText, s]) => {
      s.points.sort((a, b) => a[0] - b[0]);
      return { key: s.key, keyText, times: s.points.map((p) => p[0]), values: s.points.map((p) => p[1]) };
    });
}

/** The most common gap between consecutive observations (a day when there is none). */
export function inferStepMs(series: readonly Series[]): number {
  const counts = new Map<number, number>();
  for (const s of series) for (let i = 1; i < s.times.length; i++) {
    const d = s.times[i]! - s.times[i - 1]!;
    if (d > 0) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let best = DAY_MS;
  let bestCount = 0;
  for (const [d, c] of [...counts.entries()].sort((a, b) => a[0] - b[0])) if (c > bestCount) [best, bestCount] = [d, c];
  return best;
}

/** The usual season of data with this spacing. */
export function defaultSeasonLength(stepMs: number): number {
  if (stepMs === DAY_MS) return 7;
  if (stepMs === 7 * DAY_MS) return 52;
  if (stepMs >= 28 * DAY_MS && stepMs <= 31 * DAY_MS) return 12;
  if (stepMs === DAY_MS / 24) return 24;
  return 1;
}

/** Fills the request's defaults from the data. */
export function resolveForecastSpec(req: ForecastRequest, series: readonly Series[]): ForecastSpec {
  const stepMs = inferStepMs(series);
  return {
    seriesKeys: [...req.seriesKeys],
    dateColumn: req.dateColumn,
    horizon: req.horizon ?? 7,
    lags: [...new Set(req.lags ?? [1, 2, 3, 7, 14])].sort((a, b) => a - b),
    windows: [...new Set(req.windows ?? [7, 28])].sort((a, b) => a - b),
    seasonLength: req.seasonLength ?? defaultSeasonLength(stepMs),
    stepMs,
  };
}

/** The model's features, in matrix order. */
export function forecastFeatureSpecs(spec: ForecastSpec, keyCategories: readonly string[][]): FeatureSpec[] {
  return [
    ...spec.seriesKeys.map((name, i): FeatureSpec => ({ name, type: 'derived', kind: 'categorical', categories: [...keyCategories[i]!] })),
    ...spec.lags.map((l): FeatureSpec => ({ name: `lag_${l}`, type: 'derived', kind: 'numeric' })),
    ...spec.windows.map((w): FeatureSpec => ({ name: `mean_${w}`, type: 'derived', kind: 'numeric' })),
    ...CALENDAR.map((name): FeatureSpec => ({ name, type: 'derived', kind: 'numeric' })),
  ];
}

/** Sorted distinct key values per key column. */
export function keyCategoriesOf(series: readonly Series[], keyCount: number): string[][] {
  return Array.from({ length: keyCount }, (_, k) => [...new Set(series.map((s) => String(s.key[k] ?? '')))].filter((v) => v !== '').sort());
}

/** Category codes of a series key (NaN for a key value unseen in training). */
export function keyCodesOf(key: readonly unknown[], keyCategories: readonly string[][]): number[] {
  return keyCategories.map((cats, k) => {
    const v = key[k];
    const i = v === null || v === undefined ? -1 : cats.indexOf(String(v));
    return i < 0 ? Number.NaN : i;
  });
}

/** Writes the features predicting `values[t]` (only values before t are read) at `out[offset...]`. */
export function writeFeatureRow(out: Float32Array, offset: number, spec: ForecastSpec, keyCodes: readonly number[], values: ArrayLike<number>, t: number, timeMs: number): void {
  let o = offset;
  for (const c of keyCodes) out[o++] = c;
  for (const l of spec.lags) out[o++] = t - l >= 0 ? values[t - l]! : Number.NaN;
  for (const w of spec.windows) {
    let sum = 0;
    let n = 0;
    for (let i = Math.max(0, t - w); i < t; i++) {
      sum += values[i]!;
      n++;
    }
    out[o++] = n === 0 ? Number.NaN : sum / n;
  }
  const d = new Date(timeMs);
  out[o++] = d.getUTCDay();
  out[o++] = d.getUTCDate();
  out[o++] = d.getUTCMonth() + 1;
  out[o++] = Math.floor((timeMs - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
}

/** Number of model features for a spec. */
export function forecastWidth(spec: ForecastSpec): number {
  return spec.seriesKeys.length + spec.lags.length + spec.windows.length + CALENDAR.length;
}

/** Whether a series is long enough to hold out its last `horizon` observations for the backtest. */
export function hasBacktest(s: Series, spec: ForecastSpec): boolean {
  return s.values.length > spec.horizon + Math.max(spec.seasonLength, 1) + 1;
}

/** Training matrix: every position t >= 1 of every series, except the backtest tail. */
export function buildForecastTrainingSet(series: readonly Series[], spec: ForecastSpec, keyCategories: readonly string[][]): MatrixSet {
  const width = forecastWidth(spec);
  let rows = 0;
  const ends = series.map((s) => (hasBacktest(s, spec) ? s.values.length - spec.horizon : s.values.length));
  for (const end of ends) rows += Math.max(0, end - 1);
  const features = new Float32Array(rows * width);
  const labels = new Float32Array(rows);
  let r = 0;
  series.forEach((s, i) => {
    const codes = keyCodesOf(s.key, keyCategories);
    for (let t = 1; t < ends[i]!; t++) {
      writeFeatureRow(features, r * width, spec, codes, s.values, t, s.times[t]!);
      labels[r++] = s.values[t]!;
    }
  });
  return { features, labels, numFeatures: width, rows };
}

/** Forecasts `horizon` steps after the history, feeding each prediction back as history. */
export function recursiveForecast(
  predictRow: (row: Float32Array) => number,
  spec: ForecastSpec,
  keyCodes: readonly number[],
  history: readonly number[],
  lastTimeMs: number,
  horizon: number,
): { times: number[]; values: number[] } {
  const values = [...history];
  const row = new Float32Array(forecastWidth(spec));
  const times: number[] = [];
  const out: number[] = [];
  for (let h = 1; h <= horizon; h++) {
    const time = lastTimeMs + h * spec.stepMs;
    writeFeatureRow(row, 0, spec, keyCodes, values, values.length, time);
    const y = predictRow(row);
    values.push(y);
    times.push(time);
    out.push(y);
  }
  return { times, values: out };
}

/** Seasonal-naive forecast: the value one season before each step (the last value when the history is shorter). */
export function seasonalNaive(history: readonly number[], season: number, horizon: number): number[] {
  const n = history.length;
  return Array.from({ length: horizon }, (_, h) => (n >= season && season > 0 ? history[n - season + (h % season)]! : (history[n - 1] ?? 0)));
}
