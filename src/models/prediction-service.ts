/**
 * Predict and forecast for a tenant: resolve the serving model through the
 * loader seam, encode the request with the version's feature spec, predict
 * on the response scale.
 */
import type { DatasetService } from '../data/dataset-service.js';
import { errors } from '../errors.js';
import { encodeInstances, encodeRowObjects, parseDateMs } from './feature-encoding.js';
import { groupSeries, keyCodesOf, recursiveForecast, seriesKeyText } from './forecast-features.js';
import type { ModelLoader } from './model-loader.js';
import type { ModelSource } from './model-spec.js';
import { labelOf } from './tabular-sets.js';

/** `POST /v1/models/:name/predict` body. */
export interface PredictRequest {
  rows?: Record<string, unknown>[];
  instances?: unknown[][];
}

/** Which model answered. */
export interface ServedBy {
  name: string;
  version: number;
  source: ModelSource;
}

/** `POST /v1/models/:name/forecast` body. */
export interface ForecastCall {
  series: Record<string, unknown>;
  /** Past observations `{<date column>: date, <target>: value}`; default: the tenant's stored rows of that series. */
  history?: Record<string, unknown>[];
  horizon?: number;
}

/** One forecast step. */
export interface ForecastPoint {
  step: number;
  date: string;
  value: number;
}

/** The longest forecast one call may ask for. */
export const MAX_FORECAST_HORIZON = 1000;

/** Predictions and forecasts. */
export class PredictionService {
  constructor(
    private readonly loader: ModelLoader,
    private readonly datasets: DatasetService,
  ) {}

  /** Predicts rows (objects by feature name) or instances (arrays in feature order). */
  async predict(tenantId: string, name: string, request: PredictRequest): Promise<{ predictions: number[]; model: ServedBy }> {
    if ((request.rows === undefined) === (request.instances === undefined)) throw errors.validation('body: give either rows or instances');
    const { target, predictor } = await this.loader.resolve(tenantId, name);
    const x =
      request.rows !== undefined
        ? encodeRowObjects(target.spec.features, request.rows, target.prefix)
        : encodeInstances(target.spec.features, request.instances!, target.prefix);
    const predictions = Array.from(predictor.predictBatch(x));
    return { predictions, model: { name, version: target.version, source: target.source } };
  }

  /** Recursive multi-step forecast of one series of a forecasting model. */
  async forecast(tenantId: string, name: string, call: ForecastCall): Promise<{ series: Record<string, unknown>; forecasts: ForecastPoint[]; model: ServedBy }> {
    const { target, predictor } = await this.loader.resolve(tenantId, name);
    const fc = target.spec.forecast;
    if (!fc || target.spec.target === null) throw errors.validation(`model '${name}' is not a forecasting model (train it with a forecast field)`);
    const horizon = call.horizon ?? fc.horizon;
    if (!Number.isInteger(horizon) || horizon < 1 || horizon > MAX_FORECAST_HORIZON) throw errors.validation(`horizon: an integer from 1 to ${MAX_FORECAST_HORIZON}`);
    const key = fc.seriesKeys.map((k) => {
      if (!(k in call.series)) throw errors.validation(`series.${k}: missing (the series keys are ${fc.seriesKeys.join(', ')})`);
      return call.series[k];
    });
    const history = call.history !== undefined ? parseHistory(call.history, fc.dateColumn, target.spec.target) : await this.storedHistory(tenantId, target.spec.dataset!, target.spec.target, fc.seriesKeys, fc.dateColumn, key);
    if (history.values.length === 0) throw errors.validation('series: there is no history for this series; send history');
    const keyCategories = target.spec.features.slice(0, fc.seriesKeys.length).map((f) => f.categories ?? []);
    const out = recursiveForecast((row) => predictor.predictRow(row), fc, keyCodesOf(key, keyCategories), history.values, history.times.at(-1)!, horizon);
    const daily = fc.stepMs % 86_400_000 === 0;
    return {
      series: call.series,
      forecasts: out.values.map((value, i) => {
        const iso = new Date(out.times[i]!).toISOString();
        return { step: i + 1, date: daily ? iso.slice(0, 10) : iso, value };
      }),
      model: { name, version: target.version, source: target.source },
    };
  }

  private async storedHistory(tenantId: string, dataset: string, targetColumn: string, seriesKeys: string[], dateColumn: string, key: unknown[]) {
    const { dataset: ds, rows } = await this.datasets.readAll(tenantId, dataset);
    const wanted = seriesKeyText(key);
    const series = groupSeries(ds.columns, rows, seriesKeys, dateColumn, targetColumn).find((s) => s.keyText === wanted);
    return { times: series?.times ?? [], values: series?.values ?? [] };
  }
}

function parseHistory(rows: Record<string, unknown>[], dateColumn: string, target: string): { times: number[]; values: number[] } {
  const points = rows.map((r, i) => {
    const d = r[dateColumn];
    const t = typeof d === 'string' ? parseDateMs(d) : Number.NaN;
    if (Number.isNaN(t)) throw errors.validation(`history[${i}].${dateColumn}: expected an ISO-8601 date`);
    const y = labelOf(r[target] as never);
    if (y === null || !Number.isFinite(y)) throw errors.validation(`history[${i}].${target}: expected a number`);
    return [t, y] as const;
  });
  points.sort((a, b) => a[0] - b[0]);
  return { times: points.map((p) => p[0]), values: points.map((p) => p[1]) };
}
