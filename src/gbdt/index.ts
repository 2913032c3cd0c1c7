/**
 * tenantml's gradient-boosting library: histogram training, compiled
 * prediction, a compact artifact format, XGBoost JSON interop and a worker
 * pool. Pure: no I/O, no tenants. See README.md beside this file.
 */
export type { Dataset, FeatureKind, Forest, GbdtModel, NumericArray, ObjectiveConfig, ObjectiveName } from './types.js';
export { OBJECTIVE_NAMES } from './types.js';
export type { EvalMetricName, TrainParams } from './params.js';
export { paramsFromXgboost, resolveParams } from './params.js';
export type { RoundProgress, TrainingMetrics, TrainOptions, TrainResult } from './train.js';
export { train } from './train.js';
export { matrixFromRows } from './dataset.js';
export type { CompiledForest, Predictor } from './predictor.js';
export { compileForest, createArrayPredictor, predictorFromCompiled, transferablesOf } from './predictor.js';
export { type DecodedForest, decodeCompiledForest, encodeCompiledForest } from './compiled-forest-codec.js';
export { createJsPredictor } from './js-predictor.js';
export type { PredictorKind } from './compile-predictor.js';
export { compilePredictor } from './compile-predictor.js';
export { ARTIFACT_VERSION, deserializeModel, serializeModel } from './artifact.js';
export { exportXgboostJson } from './xgboost-json-export.js';
export { importXgboostJson } from './xgboost-json-import.js';
export type { FeatureImportance, ImportanceType } from './importance.js';
export { featureImportance } from './importance.js';
export { modelSizeBytes } from './forest.js';
export type { PoolTrainOptions, PoolTrainResult, TrainingPool, TrainingPoolConfig } from './training-pool.js';
export { createTrainingPool } from './training-pool.js';
export { featureNamesOf, predictBatch, predictorFor, predictRow } from './model-info.js';
