/**
 * One entry point for building a predictor. 'auto' is the array walker: one
 * shared kernel that is fast from the first call of every model. 'js'
 * generates per-model JavaScript, faster once V8 has optimized it (see
 * js-predictor.ts), for models with heavy steady traffic.
 */
import { canCompileToJs, createJsPredictor } from './js-predictor.js';
import { createArrayPredictor, type Predictor } from './predictor.js';
import type { GbdtModel } from './types.js';

/** Which predictor to build. */
export type PredictorKind = 'auto' | 'arrays' | 'js';

/** Compiles a model into a Predictor ('js' falls back to arrays for trees too deep to generate). */
export function compilePredictor(model: GbdtModel, kind: PredictorKind = 'auto'): Predictor {
  if (kind === 'js') return canCompileToJs(model) ? createJsPredictor(model) : createArrayPredictor(model);
  return createArrayPredictor(model);
}
