/**
 * Conveniences over a model for callers that predict rarely (build a
 * Predictor with compilePredictor and keep it for anything hot).
 */
import { createArrayPredictor } from './predictor.js';
import type { GbdtModel, NumericArray } from './types.js';

/** Predicts one row on the response scale (compiles the model on every call). */
export function predictRow(model: GbdtModel, row: NumericArray): number {
  return createArrayPredictor(model).predictRow(row);
}

/** Predicts a row-major batch on the response scale (compiles the model on every call). */
export function predictBatch(model: GbdtModel, features: NumericArray): Float32Array {
  return createArrayPredictor(model).predictBatch(features);
}

/** The model's feature names, `f<i>` for unnamed features, with their kinds. */
export function featureNamesOf(model: GbdtModel): { name: string; kind: GbdtModel['featureKinds'][number] }[] {
  return model.featureKinds.map((kind, i) => ({ name: model.featureNames[i] ?? `f${i}`, kind }));
}
