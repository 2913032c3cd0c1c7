import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Column, StoredValue } from '../../../src/data/column-types.js';
import {
  buildForecastTrainingSet,
  defaultSeasonLength,
  forecastFeatureSpecs,
  forecastWidth,
  groupSeries,
  inferStepMs,
  keyCategoriesOf,
  keyCodesOf,
  recursiveForecast,
  resolveForecastSpec,
  seasonalNaive,
  writeFeatureRow,
} from '../../../src/models/forecast-features.js';

const DAY = 86_400_000;
const columns: Column[] = [
  { name: 'store', type: 'string' },
  { name: 'day', type: 'date' },
  { name: 'units', type: 'integer' },
];
const day = (i: number) => new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10);

test('rows become series sorted by key and date; rows without date or target are skipped', () => {
  const rows: StoredValue[][] = [
    ['b', day(1), 5],
    ['a', day(2), 3],
    ['a', day(0), 1],
    ['a', null, 9],
    ['a', day(1), null],
    ['a', day(1), 2],
  ];
  const series = groupSeries(columns, rows, ['store'], 'day', 'units');
  assert.deepEqual(series.map((s) => s.key), [['a'], ['b']]);
  assert.deepEqual(series[0]!.values, [1, 2, 3]);
  assert.deepEqual(series[0]!.times, [0, 1, 2].map((i) => Date.UTC(2025, 0, 1 + i)));
  assert.equal(inferStepMs(series), DAY);
});

test('defaults follow the spacing of the data', () => {
  assert.equal(defaultSeasonLength(DAY), 7);
  assert.equal(defaultSeasonLength(7 * DAY), 52);
  assert.equal(defaultSeasonLength(30 * DAY), 12);
  assert.equal(defaultSeasonLength(DAY / 24), 24);
  assert.equal(defaultSeasonLength(3 * DAY), 1);
  const spec = resolveForecastSpec({ seriesKeys: ['store'], dateColumn: 'day', lags: [7, 1, 7] }, []);
  assert.deepEqual(spec.lags, [1, 7]);
  assert.equal(spec.horizon, 7);
});

test('a feature row reads only values before t: lags, rolling means, calendar', () => {
  const spec = resolveForecastSpec({ seriesKeys: ['store'], dateColumn: 'day', lags: [1, 3], windows: [2] }, []);
  const out = new Float32Array(forecastWidth(spec));
  const values = [10, 20, 30, 40, 1e9];
  const time = Date.UTC(2025, 1, 3); // a Monday, 3 February
  writeFeatureRow(out, 0, spec, [4], values, 4, time);
  assert.deepEqual(Array.from(out), [4, 40, 20, 35, 1, 3, 2, 34]);
  writeFeatureRow(out, 0, spec, [0], values, 0, time);
  assert.ok(Number.isNaN(out[1]!) && Number.isNaN(out[2]!) && Number.isNaN(out[3]!), 'no history: missing');
});

test('the training set holds out the last horizon points of long series only', () => {
  const spec = { ...resolveForecastSpec({ seriesKeys: ['store'], dateColumn: 'day', horizon: 3 }, []), seasonLength: 2 };
  const rows: StoredValue[][] = [];
  for (let i = 0; i < 10; i++) rows.push(['long', day(i), i]);
  for (let i = 0; i < 4; i++) rows.push(['short', day(i), i]);
  const series = groupSeries(columns, rows, ['store'], 'day', 'units');
  const cats = keyCategoriesOf(series, 1);
  assert.deepEqual(cats, [['long', 'short']]);
  const set = buildForecastTrainingSet(series, spec, cats);
  assert.equal(set.rows, 10 - 3 - 1 + (4 - 1));
  assert.deepEqual(Array.from(set.labels), [1, 2, 3, 4, 5, 6, 1, 2, 3]);
  assert.equal(forecastFeatureSpecs(spec, cats)[0]!.kind, 'categorical');
  assert.deepEqual(keyCodesOf(['short'], cats), [1]);
  assert.ok(Number.isNaN(keyCodesOf(['new'], cats)[0]!));
});

test('recursive forecasts feed each prediction back as history', () => {
  const spec = resolveForecastSpec({ seriesKeys: [], dateColumn: 'day', lags: [1], windows: [] }, []);
  // A "model" that adds one to the previous value.
  const out = recursiveForecast((row) => row[0]! + 1, spec, [], [5], Date.UTC(2025, 0, 1), 3);
  assert.deepEqual(out.values, [6, 7, 8]);
  assert.deepEqual(out.times, [1, 2, 3].map((i) => Date.UTC(2025, 0, 1) + i * DAY));
});

test('seasonal naive repeats the last season', () => {
  assert.deepEqual(seasonalNaive([1, 2, 3, 4, 5], 2, 5), [4, 5, 4, 5, 4]);
  assert.deepEqual(seasonalNaive([7], 3, 2), [7, 7], 'shorter than a season: the last value');
});
