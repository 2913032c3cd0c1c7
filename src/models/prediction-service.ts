/**
 * Predict and forecast for a tenant: resolve the serving model through the
 * loader seam, encode the request with the version's feature spec, predict
 * on the response scale. Every call runs under the tenant's prediction quota
 * (charged per predicted row or forecast step) and the fair scheduler; the
 * model is loaded and pinned before its rows queue, so a cold load never holds
 * a compute slot.
 */
import type { DatasetService } from '../data/dataset-service.js';
import type { StreamedFormat } from '../data/row-sources.js';
import { errors } from '../errors.js';
import type { FairScheduler } from '../limits/fair-scheduler.js';
import { runPrediction, runPredictionNow } from '../limits/run-prediction.js';
import type { LimitedTenant, TenantQuotas } from '../limits/tenant-quotas.js';
import { parseDateMs } from './feature-encoding.js';
import { groupSeries, keyCodesOf, recursiveForecast, seriesKeyText } from './forecast-features.js';
import type { ModelLoader } from './model-loader.js';
import type { BatchPredictionPool, BatchSession, PredictedSlice } from './batch-prediction-pool.js';
import { PREDICTIONS_HEAD, predictionsJson, predictionsTail } from './prediction-json.js';
import {
  encodeInstances,
  encodeInstancesAsync,
  encodeRowObjects,
  encodeRowObjectsAsync,
  type RowMatrix,
  smallChunks,
  YIELD_EVERY_ROWS,
} from './row-matrix.js';
import type { ModelSource } from './model-spec.js';
import type { ServingTarget } from './serving-target.js';
import { encodeStreamedRows } from './streamed-rows.js';
import { labelOf } from './tabular-sets.js';

/** Thrown inside `predictNow` when the model left the cache between the check and the use. */
const NOT_RESIDENT = Symbol('not resident');

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

/** A streamed predict body: CSV or NDJSON rows as they arrive. */
export interface StreamedRows {
  format: StreamedFormat;
  body: AsyncIterable<Buffer | Uint8Array | string>;
  /** The body size limit, enforced as bytes arrive. */
  maxBytes: number;
}

/** A streamed predict answer: the JSON document `{"predictions":[...],"model":{...}}` in pieces, ready to send. */
export interface StreamedPredictions {
  json: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;
  model: ServedBy;
}

/** The longest forecast one call may ask for. */
export const MAX_FORECAST_HORIZON = 1000;

/** The limits predictions run under. */
export interface PredictionLimits {
  quotas: TenantQuotas;
  compute: FairScheduler;
}

/** Predictions and forecasts. */
export class PredictionService {
  constructor(
    private readonly loader: ModelLoader,
    private readonly datasets: DatasetService,
    private readonly limits?: PredictionLimits,
    /** Where streamed batches are parsed and predicted; absent, on the event loop. */
    private readonly batches?: BatchPredictionPool,
  ) {}

  /** Predicts rows (objects by feature name) or instances (arrays in feature order). */
  async predict(tenant: LimitedTenant, name: string, request: PredictRequest, signal?: AbortSignal): Promise<{ predictions: number[]; model: ServedBy }> {
    if ((request.rows === undefined) === (request.instances === undefined)) throw errors.validation('body: give either rows or instances');
    const target = await this.loader.target(tenant.tenantId, name);
    const x =
      request.rows !== undefined
        ? await encodeRowObjectsAsync(target.spec.features, request.rows, target.prefix)
        : await encodeInstancesAsync(target.spec.features, request.instances!, target.prefix);
    const predictions = await this.run(tenant, target, x, signal);
    return { predictions: numbersOf(predictions), model: servedBy(name, target) };
  }

  /**
   * `predict` at once, when nothing needs waiting for: the serving version is
   * in memory, its model too or readable at once (`servesNow`), the request is
   * small and the limits decide from memory (`runPredictionNow`). Otherwise
   * undefined, having kept no charge and run nothing: then call `predict`.
   * Bad input throws as in `predict`.
   */
  predictNow(tenant: LimitedTenant, name: string, request: PredictRequest): { predictions: number[]; model: ServedBy } | undefined {
    const { loader, limits } = this;
    const rows = request.rows ?? request.instances;
    if (loader.targetNow === undefined || loader.useTargetNow === undefined || rows === undefined || (request.rows === undefined) === (request.instances === undefined)) return undefined;
    if (rows.length > YIELD_EVERY_ROWS || (limits !== undefined && !limits.compute.canRunNow(tenant.tenantId, tenant.limits.maxConcurrent))) return undefined;
    const target = loader.targetNow(tenant.tenantId, name);
    if (target === undefined) return undefined;
    const x =
      request.rows !== undefined
        ? encodeRowObjects(target.spec.features, request.rows, target.prefix)
        : encodeInstances(target.spec.features, request.instances!, target.prefix);
    if (loader.servesNow?.(target) !== true) return undefined;
    // The quota and the slot decide first: the model is only taken (a cache hit counted) for rows that will run now.
    try {
      const ran = limits ? runPredictionNow(limits, tenant, x.rows, () => predictResident(loader, target, x.data)) : { value: predictResident(loader, target, x.data) };
      return ran === undefined ? undefined : { predictions: numbersOf(ran.value), model: servedBy(name, target) };
    } catch (error) {
      if (error === NOT_RESIDENT) return undefined; // runPredictionNow gave the charge back
      throw error;
    }
  }

  /**
   * Predicts a streamed body (CSV or NDJSON rows, see `row-matrix.ts`): rows are
   * encoded as they arrive, then predicted in batch-lane slices. Predictions
   * are in body order. With a batch pool, the parsing, encoding, tree walks and
   * answer text all happen on its threads; the event loop charges the quota
   * and grants the slices, as for any prediction.
   */
  async predictStream(tenant: LimitedTenant, name: string, rows: StreamedRows, signal?: AbortSignal): Promise<StreamedPredictions> {
    const target = await this.loader.target(tenant.tenantId, name);
    const model = servedBy(name, target);
    if (this.batches) return { json: await this.predictOnBatchThread(this.batches, tenant, target, rows, signal), model };
    const x = await encodeStreamedRows(target.spec.features, rows.format, smallChunks(rows.body), rows.maxBytes, target.prefix);
    signal?.throwIfAborted();
    return { json: predictionsJson(await this.run(tenant, target, x, signal), model), model };
  }

  /**
   * The streamed batch on a pool thread; resolves with the answer's pieces once every slice is predicted. The
   * thread holds the slices' text until the answer is read; reading it to the end, or aborting `signal`, ends
   * the session.
   */
  private async predictOnBatchThread(
    pool: BatchPredictionPool,
    tenant: LimitedTenant,
    target: ServingTarget,
    rows: StreamedRows,
    signal: AbortSignal | undefined,
  ): Promise<AsyncIterable<string | Uint8Array>> {
    const session = pool.open({ format: rows.format, target, maxBytes: rows.maxBytes, ...(signal ? { signal } : {}) });
    try {
      const count = await session.encode(rows.body);
      signal?.throwIfAborted();
      const slice = async (start: number, end: number) => [await session.predict(start, end)];
      const slices = this.limits ? await runPrediction(this.limits, { tenant, rows: count, ...(signal ? { signal } : {}) }, slice) : await slice(0, count);
      return answerFromThread(session, slices, predictionsTail(servedBy(target.name, target)));
    } catch (error) {
      session.close();
      throw error;
    }
  }

  /** Recursive multi-step forecast of one series of a forecasting model; charged one prediction per step. */
  async forecast(tenant: LimitedTenant, name: string, call: ForecastCall, signal?: AbortSignal): Promise<{ series: Record<string, unknown>; forecasts: ForecastPoint[]; model: ServedBy }> {
    const target = await this.loader.target(tenant.tenantId, name);
    const fc = target.spec.forecast;
    if (!fc || target.spec.target === null) throw errors.validation(`model '${name}' is not a forecasting model (train it with a forecast field)`);
    const horizon = call.horizon ?? fc.horizon;
    if (!Number.isInteger(horizon) || horizon < 1 || horizon > MAX_FORECAST_HORIZON) throw errors.validation(`horizon: an integer from 1 to ${MAX_FORECAST_HORIZON}`);
    const key = fc.seriesKeys.map((k) => {
      if (!(k in call.series)) throw errors.validation(`series.${k}: missing (the series keys are ${fc.seriesKeys.join(', ')})`);
      return call.series[k];
    });
    const history = call.history !== undefined ? parseHistory(call.history, fc.dateColumn, target.spec.target) : await this.storedHistory(tenant.tenantId, target.spec.dataset!, target.spec.target, fc.seriesKeys, fc.dateColumn, key);
    if (history.values.length === 0) throw errors.validation('series: there is no history for this series; send history');
    const keyCategories = target.spec.features.slice(0, fc.seriesKeys.length).map((f) => f.categories ?? []);
    const keyCodes = keyCodesOf(key, keyCategories);
    let times: number[] = [];
    // The steps are recursive (each feeds the next), so the forecast is one real-time task costing `horizon` rows;
    // the model is pinned before it queues.
    const values = await this.loader.useTarget(target, ({ predictor }) => {
      const forecastAll = () => {
        const out = recursiveForecast((row) => predictor.predictRow(row), fc, keyCodes, history.values, history.times.at(-1)!, horizon);
        times = out.times;
        return out.values;
      };
      return this.limits ? runPrediction(this.limits, { tenant, rows: horizon, ...(signal ? { signal } : {}) }, forecastAll) : forecastAll();
    });
    const daily = fc.stepMs % 86_400_000 === 0;
    return {
      series: call.series,
      forecasts: values.map((value, i) => {
        const iso = new Date(times[i]!).toISOString();
        return { step: i + 1, date: daily ? iso.slice(0, 10) : iso, value };
      }),
      model: servedBy(name, target),
    };
  }

  /**
   * Predicts every row of `x` under the limits: one real-time task when small,
   * batch slices when large. The model is loaded and pinned before the work
   * queues, so a cold load never holds a compute slot.
   */
  private async run(tenant: LimitedTenant, target: ServingTarget, x: RowMatrix, signal: AbortSignal | undefined): Promise<Float32Array> {
    const parts = await this.loader.useTarget(target, ({ predictor }) => {
      const slice = (start: number, end: number) => [predictor.predictBatch(x.data.subarray(start * x.width, end * x.width))];
      return this.limits ? runPrediction(this.limits, { tenant, rows: x.rows, ...(signal ? { signal } : {}) }, slice) : slice(0, x.rows);
    });
    if (parts.length === 1) return parts[0]!;
    // Slices come back as separate arrays; copying them into one is a memcpy, not a per-row loop.
    const out = new Float32Array(x.rows);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  private async storedHistory(tenantId: string, dataset: string, targetColumn: string, seriesKeys: string[], dateColumn: string, key: unknown[]) {
    const { dataset: ds, rows } = await this.datasets.readAll(tenantId, dataset);
    const wanted = seriesKeyText(key);
    const series = groupSeries(ds.columns, rows, seriesKeys, dateColumn, targetColumn).find((s) => s.keyText === wanted);
    return { times: series?.times ?? [], values: series?.values ?? [] };
  }
}

/**
 * The answer's pieces, each slice's text taken from the thread as the one before it has been handed on: every
 * piece arrives in a turn of the event loop of its own, and is garbage soon after. Ends the session.
 */
async function* answerFromThread(session: BatchSession, slices: PredictedSlice[], tail: string): AsyncIterable<string | Uint8Array> {
  try {
    yield PREDICTIONS_HEAD;
    for (const slice of slices) yield await session.take(slice);
    yield tail;
  } finally {
    session.close();
  }
}

/** Predicts with a model the loader serves now; throws NOT_RESIDENT if it cannot after all (the queued path loads it). */
function predictResident(loader: ModelLoader, target: ServingTarget, x: Float32Array): Float32Array {
  const out = loader.useTargetNow!(target, ({ predictor }) => predictor.predictBatch(x));
  if (out === undefined) throw NOT_RESIDENT;
  return out.value;
}

/** The predictions as a plain array, which JSON renders as one. A loop: `Array.from` iterates a typed array through
 * its iterator, ~0.3 µs for a single-row answer against ~0.01. */
function numbersOf(values: Float32Array): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]!;
  return out;
}

function servedBy(name: string, target: ServingTarget): ServedBy {
  return { name, version: target.version, source: target.source };
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
