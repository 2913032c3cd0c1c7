/**
 * Executes a training job: read the tenant's rows (through `withTenant`, via
 * the dataset service: the trainer cannot see another tenant's rows), build
 * the matrices, train on a worker thread, measure the holdout against a naive
 * baseline (training mean, or seasonal-naive backtest for forecasts), and
 * publish the verified artifact. Everything is a function of the payload and
 * the tenant's rows, so the artifact is byte-identical for the same data.
 */
import type { Column, StoredValue } from '../data/column-types.js';
import type { DatasetService } from '../data/dataset-service.js';
import { errors } from '../errors.js';
import { compilePredictor, deserializeModel, type PoolTrainResult, type TrainingPool, type TrainParams } from '../gbdt/index.js';
import { errorMetrics } from './error-metrics.js';
import { learnCategories, planFeatures } from './feature-encoding.js';
import {
  buildForecastTrainingSet,
  forecastFeatureSpecs,
  groupSeries,
  hasBacktest,
  keyCategoriesOf,
  keyCodesOf,
  recursiveForecast,
  resolveForecastSpec,
  seasonalNaive,
} from './forecast-features.js';
import type { ClaimedJob, JobProgress } from './job-queue.js';
import type { JobOutcome } from './job-runner.js';
import type { ModelSpec, VersionMetrics } from './model-spec.js';
import type { ModelRegistry } from './model-registry.js';
import { buildTabularSets, fingerprintRows, type MatrixSet, meanOf } from './tabular-sets.js';
import { TRAIN_PAYLOAD_VERSION, type TrainRequest } from './train-request.js';
import { MIN_TRAINING_ROWS } from './validate-train-request.js';

/** What the trainer needs. */
export interface ModelTrainerDeps {
  datasets: DatasetService;
  pool: TrainingPool;
  registry: ModelRegistry;
}

/** Runs one claimed training job end to end and publishes its version. */
export async function runTrainingJob(
  deps: ModelTrainerDeps,
  job: ClaimedJob,
  ctx: { signal: AbortSignal; progress: (p: JobProgress) => void },
): Promise<JobOutcome> {
  const { payload } = job;
  if (payload.payloadVersion !== TRAIN_PAYLOAD_VERSION) throw errors.validation(`job payload version ${payload.payloadVersion} is not supported`);
  if (payload.tenantId !== job.tenantId) throw errors.validation('job payload names another tenant');
  const request = payload.request;
  const started = performance.now();
  const { dataset, rows } = await deps.datasets.readAll(job.tenantId, request.dataset);
  ctx.signal.throwIfAborted();
  const readMs = performance.now() - started;

  const prepared = request.forecast ? prepareForecast(request, dataset.columns, rows) : prepareTabular(request, dataset.columns, rows);
  if (prepared.train.rows < MIN_TRAINING_ROWS / 2) throw errors.validation(`too few training rows (${prepared.train.rows})`);

  const trainStarted = performance.now();
  const params = effectiveParams(request, prepared.train.labels);
  prepared.spec.params = params;
  const validation = prepared.holdout && prepared.holdout.rows > 0 ? prepared.holdout : undefined;
  const result: PoolTrainResult = await deps.pool.train(prepared.train, params, {
    ...(validation ? { validation } : {}),
    featureNames: prepared.spec.features.map((f) => f.name),
    featureKinds: prepared.spec.features.map((f) => f.kind),
    signal: ctx.signal,
    onProgress: (p) =>
      ctx.progress({ roundsDone: p.round, totalRounds: p.totalRounds, ...(p.validScore === undefined ? {} : { validationError: p.validScore }) }),
  });
  const trainMs = performance.now() - trainStarted;

  const evalStarted = performance.now();
  const predictor = compilePredictor(deserializeModel(result.artifact));
  const metrics: VersionMetrics = {
    ...prepared.evaluate((x) => predictor.predictBatch(x), (row) => predictor.predictRow(row)),
    training: {
      rounds: result.metrics.rounds,
      numTrees: result.metrics.numTrees,
      bestIteration: result.metrics.bestIteration,
      metric: result.metrics.metric,
      ...(result.metrics.validScore === undefined ? {} : { validScore: result.metrics.validScore }),
    },
  };
  const evaluateMs = performance.now() - evalStarted;
  ctx.signal.throwIfAborted();

  const publishStarted = performance.now();
  const version = await deps.registry.publish(job.tenantId, request.name, {
    jobId: job.id,
    origin: 'trained',
    spec: prepared.spec,
    metrics,
    fingerprint: fingerprintRows(rows),
    lineage: [job.tenantId],
    trainingMs: trainMs,
    artifact: result.artifact,
  });
  const timings = { readMs: round(readMs), trainMs: round(trainMs), evaluateMs: round(evaluateMs), publishMs: round(performance.now() - publishStarted) };
  return {
    version: version.version,
    progress: {
      roundsDone: result.metrics.rounds,
      totalRounds: result.metrics.rounds,
      metric: result.metrics.metric,
      ...(result.metrics.validScore === undefined ? {} : { validationError: result.metrics.validScore }),
      timings,
    },
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * The request's parameters, with the initial prediction started at the
 * training labels' mean when not given (as XGBoost 2 does), kept inside the
 * range the objective allows. Boosting then starts at the right scale instead
 * of spending rounds climbing from 0.5.
 */
export function effectiveParams(request: TrainRequest, labels: Float32Array): TrainParams {
  const params: TrainParams = { ...(request.params ?? {}), objective: request.objective };
  if (params.baseScore === undefined && labels.length > 0) {
    const mean = Math.fround(meanOf(labels));
    if (request.objective === 'binary:logistic') params.baseScore = Math.min(0.999, Math.max(0.001, mean));
    else if (request.objective === 'count:poisson' || request.objective === 'reg:tweedie') params.baseScore = Math.max(1e-3, mean);
    else params.baseScore = mean;
  }
  return params;
}

interface Prepared {
  spec: ModelSpec;
  train: MatrixSet;
  holdout: MatrixSet | null;
  evaluate(predictBatch: (x: Float32Array) => Float32Array, predictRow: (row: Float32Array) => number): Partial<VersionMetrics>;
}

/** Tabular model: the chosen columns, a position-hashed holdout, the training mean as baseline. */
export function prepareTabular(request: TrainRequest, columns: readonly Column[], rows: readonly StoredValue[][]): Prepared {
  const names = request.features ?? columns.filter((c) => c.name !== request.target).map((c) => c.name);
  const features = planFeatures(columns, names);
  const index = new Map(columns.map((c, i) => [c.name, i]));
  learnCategories(features, function* (name) {
    const i = index.get(name)!;
    for (const r of rows) yield r[i] ?? null;
  });
  const { train, holdout } = buildTabularSets(columns, rows, features, request.target);
  const spec: ModelSpec = { objective: request.objective, params: request.params ?? {}, dataset: request.dataset, target: request.target, features };
  return {
    spec,
    train,
    holdout,
    evaluate(predictBatch) {
      if (holdout.rows === 0) return {};
      const mean = meanOf(train.labels);
      return {
        holdout: errorMetrics(holdout.labels, predictBatch(holdout.features)),
        baseline: { kind: 'training-mean', ...errorMetrics(holdout.labels, new Float32Array(holdout.rows).fill(mean)) },
      };
    },
  };
}

/** Forecast model: derived features; the backtest holds out the last `horizon` observations of each long-enough series. */
export function prepareForecast(request: TrainRequest, columns: readonly Column[], rows: readonly StoredValue[][]): Prepared {
  const fc = request.forecast!;
  const series = groupSeries(columns, rows, fc.seriesKeys, fc.dateColumn, request.target);
  const forecast = resolveForecastSpec(fc, series);
  const keyCategories = keyCategoriesOf(series, forecast.seriesKeys.length);
  const features = forecastFeatureSpecs(forecast, keyCategories);
  const train = buildForecastTrainingSet(series, forecast, keyCategories);
  const spec: ModelSpec = { objective: request.objective, params: request.params ?? {}, dataset: request.dataset, target: request.target, features, forecast };
  return {
    spec,
    train,
    holdout: null,
    evaluate(_batch, predictRow) {
      const actual: number[] = [];
      const model: number[] = [];
      const naive: number[] = [];
      let count = 0;
      for (const s of series) {
        if (!hasBacktest(s, forecast)) continue;
        count++;
        const cut = s.values.length - forecast.horizon;
        const history = s.values.slice(0, cut);
        const predicted = recursiveForecast(predictRow, forecast, keyCodesOf(s.key, keyCategories), history, s.times[cut - 1]!, forecast.horizon);
        actual.push(...s.values.slice(cut));
        model.push(...predicted.values);
        naive.push(...seasonalNaive(history, forecast.seasonLength, forecast.horizon));
      }
      if (count === 0) return {};
      const holdout = errorMetrics(actual, model);
      const seasonal = errorMetrics(actual, naive);
      return {
        holdout,
        baseline: { kind: 'seasonal-naive', ...seasonal },
        backtest: { model: holdout, seasonalNaive: seasonal, horizon: forecast.horizon, series: count },
      };
    },
  };
}
