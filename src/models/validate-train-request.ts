/**
 * Checks a train request against the tenant's dataset before a job is queued,
 * so bad input is a 400 naming the field at submit time rather than a failed
 * job later: unknown dataset or column, non-numeric target, too few rows,
 * labels the objective cannot learn, out-of-range parameters.
 */
import type { Column } from '../data/column-types.js';
import type { DatasetService } from '../data/dataset-service.js';
import type { Db } from '../db/db.js';
import { isAppError, errors } from '../errors.js';
import { OBJECTIVE_NAMES, resolveParams } from '../gbdt/index.js';
import { labelStats } from './label-stats.js';
import { assertModelName } from './model-registry.js';
import type { TrainRequest } from './train-request.js';

/** Fewer labelled rows than this cannot give a model and a holdout worth reporting. */
export const MIN_TRAINING_ROWS = 20;

const NUMERIC_TYPES = new Set(['number', 'integer', 'boolean']);

/** Validates `request` for `tenantId`; returns the dataset's columns. Throws `validation_failed` on the first problem. */
export async function validateTrainRequest(db: Db, datasets: DatasetService, tenantId: string, request: TrainRequest): Promise<Column[]> {
  assertModelName(request.name);
  if (!OBJECTIVE_NAMES.includes(request.objective)) throw errors.validation(`objective: one of ${OBJECTIVE_NAMES.join(', ')}`);
  resolveParams({ ...(request.params ?? {}), objective: request.objective });
  let dataset: Awaited<ReturnType<DatasetService['describe']>>;
  try {
    dataset = await datasets.describe(tenantId, request.dataset);
  } catch (err) {
    if (isAppError(err) && err.code === 'not_found') throw errors.validation(`dataset: no dataset named '${request.dataset}'`);
    throw err;
  }
  const columns = dataset.columns;
  const column = (name: string, field: string) => {
    const c = columns.find((x) => x.name === name);
    if (!c) throw errors.validation(`${field}: the dataset '${request.dataset}' has no column '${name}' (columns: ${columns.map((x) => x.name).join(', ')})`);
    return c;
  };
  const target = column(request.target, 'target');
  if (!NUMERIC_TYPES.has(target.type)) throw errors.validation(`target: column '${target.name}' is ${target.type}, not numeric`);
  for (const f of request.features ?? []) {
    column(f, 'features');
    if (f === request.target) throw errors.validation(`features: '${f}' is the target`);
  }
  if (request.features && new Set(request.features).size !== request.features.length) throw errors.validation('features: a column is listed twice');
  if (request.forecast) {
    const fc = request.forecast;
    if (request.features !== undefined) throw errors.validation('features: forecasting models derive their features (lags, rolling means, calendar); leave features out');
    const date = column(fc.dateColumn, 'forecast.dateColumn');
    if (date.type !== 'date') throw errors.validation(`forecast.dateColumn: column '${date.name}' is ${date.type}, not date`);
    for (const k of fc.seriesKeys) {
      column(k, 'forecast.seriesKeys');
      if (k === request.target || k === fc.dateColumn) throw errors.validation(`forecast.seriesKeys: '${k}' is the target or the date column`);
    }
  } else if ((request.features ?? columns.filter((c) => c.name !== request.target)).length === 0) {
    throw errors.validation('features: the dataset has no column besides the target');
  }
  const stats = await labelStats(db, tenantId, dataset.id, columns.indexOf(target));
  if (stats.labelled < MIN_TRAINING_ROWS) {
    throw errors.validation(`dataset: '${request.dataset}' has ${stats.labelled} rows with a '${target.name}' value; training needs at least ${MIN_TRAINING_ROWS}`);
  }
  if ((request.objective === 'count:poisson' || request.objective === 'reg:tweedie') && stats.min !== null && stats.min < 0) {
    throw errors.validation(`objective: ${request.objective} needs target values >= 0, but '${target.name}' goes down to ${stats.min}`);
  }
  if (request.objective === 'binary:logistic' && stats.outsideUnit > 0) {
    throw errors.validation(`objective: binary:logistic needs target values 0 or 1 (or probabilities in [0, 1]); '${target.name}' has ${stats.outsideUnit} values outside (range ${stats.min} to ${stats.max})`);
  }
  return columns;
}
