/**
 * One entry point for building a predictor: generated JavaScript when the
 * trees allow it (faster single rows), the array walker otherwise.
 */
import { canCompileToJs, createJsPredictor } from './js-predictor.js';
import { createArrayPredictor, type Predictor } from './predictor.js';
import type { GbdtModel } from './types.js';

/** Which predictor to build; 'auto' prefers generated JavaScript. */
export type PredictorKind = 'auto' | 'arrays' | 'js';

/** Compiles a model into a Predictor. */
export function compilePredictor(model: GbdtModel, kind: PredictorKind = 'auto'): Predictor {
  if (kind === 'arrays') return createArrayPredictor(model);
  if (kind === 'js') return createJsPredictor(model);
  return canCompileToJs(model) ? createJsPredictor(model) : createArrayPredictor(model);
}
