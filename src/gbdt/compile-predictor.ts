/**
 * One entry point for building a predictor. 'auto' is the array walker:
 * shared kernels that are fast from the first call of every model, and the
 * fastest batch path (rows walked 8 at a time per tree, batch-kernels.ts).
 * 'js' generates per-model JavaScript, which is slightly faster on single
 * rows once V8 has optimized it (see js-predictor.ts) but slower on batches
 * and cold for its first ~10^5 rows; the README explains why the default is
 * not tiered onto it.
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
