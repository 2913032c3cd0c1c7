/**
 * Conveniences over a model: predictions through a per-model cached
 * predictor, and the feature list other layers show and validate against.
 */
import { createArrayPredictor, type Predictor } from './predictor.js';
import type { GbdtModel, NumericArray } from './types.js';

const cache = new WeakMap<GbdtModel, Predictor>();

/** The model's array predictor, compiled once per model object (models are treated as immutable). */
export function predictorFor(model: GbdtModel): Predictor {
  let p = cache.get(model);
  if (p === undefined) {
    p = createArrayPredictor(model);
    cache.set(model, p);
  }
  return p;
}

/** Predicts one row on the response scale. */
export function predictRow(model: GbdtModel, row: NumericArray): number {
  return predictorFor(model).predictRow(row);
}

/** Predicts a row-major batch on the response scale. */
export function predictBatch(model: GbdtModel, features: NumericArray): Float32Array {
  return predictorFor(model).predictBatch(features);
}

/** The model's features in order: names (`f<i>` when unnamed, as XGBoost) and kinds. */
export function featureNamesOf(model: GbdtModel): { name: string; kind: GbdtModel['featureKinds'][number] }[] {
  return model.featureKinds.map((kind, i) => ({ name: model.featureNames[i] ?? `f${i}`, kind }));
}
