/**
 * What a model version records about its inputs: the features (their column
 * types, how they are encoded, the categories learned), the objective and
 * parameters, and for forecasting models how the series were laid out. A
 * predict call encodes its rows with exactly this spec.
 */
import type { ColumnType } from '../data/column-types.js';
import type { FeatureKind, ObjectiveName, TrainParams } from '../gbdt/index.js';

/** One model input. */
export interface FeatureSpec {
  name: string;
  /** The dataset column type it was read from; `derived` for forecast lag/calendar features. */
  type: ColumnType | 'derived';
  kind: FeatureKind;
  /** Categorical string features: the category of code i is `categories[i]` (sorted). */
  categories?: string[];
}

/** How a time-series dataset is laid out and which features forecasting derives. */
export interface ForecastSpec {
  /** Columns that identify one series (e.g. store and product). */
  seriesKeys: string[];
  /** The column holding each observation's date. */
  dateColumn: string;
  /** Steps forecast by default and held out for the backtest. */
  horizon: number;
  /** Target lags, in observations. */
  lags: number[];
  /** Rolling-mean windows over past targets, in observations. */
  windows: number[];
  /** Season length for the seasonal-naive baseline, in observations. */
  seasonLength: number;
  /** Spacing of observations in ms (the most common gap in the training data). */
  stepMs: number;
}

/** The recorded inputs of a model version. */
export interface ModelSpec {
  objective: ObjectiveName;
  params: TrainParams;
  /** The dataset and target column it learned from (null for imported models). */
  dataset: string | null;
  target: string | null;
  features: FeatureSpec[];
  forecast?: ForecastSpec;
}

/** Where a served model came from. */
export type ModelSource = 'tenant' | 'global';

/** Holdout error of one predictor. */
export interface ErrorMetrics {
  rmse: number;
  mae: number;
  /** Weighted absolute percentage error: sum|error| / sum|actual| (null when the actuals sum to 0). */
  wape: number | null;
  rows: number;
}

/** Metrics recorded with a trained version. */
export interface VersionMetrics {
  holdout?: ErrorMetrics;
  baseline?: ErrorMetrics & { kind: 'training-mean' | 'seasonal-naive' };
  /** Forecast models: recursive multi-step backtest over the last `horizon` observations of each series. */
  backtest?: { model: ErrorMetrics; seasonalNaive: ErrorMetrics; horizon: number; series: number };
  training?: { rounds: number; numTrees: number; bestIteration: number; metric: string; validScore?: number };
}

/** Row count and sha256 of the rows a version learned from. */
export interface DataFingerprint {
  rows: number;
  sha256: string;
}
