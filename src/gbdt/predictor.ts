/**
 * The array-walking predictor: the forest re-laid out into flat typed arrays
 * (children adjacent, so `right = left + 1`), walked with XGBoost's float32
 * rules: `fround(x) < threshold` goes left, NaN follows the learned default,
 * categories in the node's set go right, and leaves are summed in float32 in
 * tree order. Everything it holds is a typed array, so it can be posted to a
 * worker thread.
 *
 * A walk is a chain of dependent loads (node -> feature -> value -> child),
 * so one walk at a time leaves the CPU waiting. For numeric-only models the
 * walker descends 8 trees in lockstep for the same row: leaves point back to
 * themselves (child = id - 1 and a NaN threshold, so every test sends them
 * "right" onto themselves), the step is branch-free arithmetic, and the 8
 * independent chains overlap. Leaves are still summed in tree order, so the
 * float32 result is exactly the sequential one. One shared kernel serves
 * every model, so it is hot from the first call of a new model. Batches
 * walk 8 rows per tree instead (batch-kernels.ts), for cache locality.
 */
import { errors } from '../errors.js';
import { type CompiledForest, compileForest, sizeOfCompiled } from './compiled-forest.js';
import { outputOf } from './objectives.js';
import type { GbdtModel, NumericArray } from './types.js';
import { batchMargins } from './batch-kernels.js';
import { rowMargin } from './walk-kernels.js';

export type { CompiledForest } from './compiled-forest.js';
export { compileForest, inCategorySet, transferablesOf } from './compiled-forest.js';

/** A compiled model that predicts single rows and row-major batches. */
export interface Predictor {
  readonly numFeatures: number;
  /** How single rows are evaluated: the array walker or generated JavaScript. */
  readonly kind: 'arrays' | 'js';
  /** Bytes held by the compiled form (add the model's own size for a cache budget). */
  readonly sizeBytes: number;
  /** Prediction on the response scale for one row; NaN marks a missing value. */
  predictRow(row: NumericArray, offset?: number): number;
  /** The raw margin (sum of leaves plus base margin) for one row. */
  predictMarginRow(row: NumericArray, offset?: number): number;
  /** Predictions for a row-major matrix of `features.length / numFeatures` rows. */
  predictBatch(features: NumericArray, out?: Float32Array): Float32Array;
  /** Margins for a row-major matrix. */
  predictMarginBatch(features: NumericArray, out?: Float32Array): Float32Array;
}

/** Builds the array-walking predictor for a model. */
export function createArrayPredictor(model: GbdtModel): Predictor {
  return predictorFromCompiled(compileForest(model));
}

/** Builds the array-walking predictor from a compiled layout (e.g. one received from another thread). */
export function predictorFromCompiled(c: CompiledForest): Predictor {
  return wrapPredictor('arrays', c, sizeOfCompiled(c));
}

/** How a predictor computes margins other than with the array kernels (generated code, see js-predictor.ts). */
export interface MarginKernels {
  row(x: NumericArray, offset: number): number;
  batch(x: Float32Array, rows: number, out: Float32Array): void;
}

/** Turns a compiled layout (and optionally other margin kernels) into a full Predictor with input checks. */
export function wrapPredictor(kind: 'arrays' | 'js', c: CompiledForest, sizeBytes: number, kernels?: MarginKernels): Predictor {
  return new CompiledPredictor(kind, c, sizeBytes, kernels);
}

/**
 * A class, not an object of closures: a serving replica builds one per cold load, ~1,100 a second under the serving
 * bench's Zipf traffic, and each lives as long as its model is cached, long enough to be promoted to the old
 * generation. As closures it held ~1.3 KB; an instance holds a few fields.
 */
class CompiledPredictor implements Predictor {
  readonly numFeatures: number;

  constructor(
    readonly kind: 'arrays' | 'js',
    private readonly c: CompiledForest,
    readonly sizeBytes: number,
    private readonly kernels: MarginKernels | undefined,
  ) {
    this.numFeatures = c.numFeatures;
  }

  predictRow(row: NumericArray, offset = 0): number {
    this.checkRow(row, offset);
    return outputOf(this.c.link, this.marginOf(row, offset));
  }

  predictMarginRow(row: NumericArray, offset = 0): number {
    this.checkRow(row, offset);
    return this.marginOf(row, offset);
  }

  predictBatch(features: NumericArray, out?: Float32Array): Float32Array {
    const result = this.margins(features, out);
    const { link } = this.c;
    if (link !== 'identity') {
      const rows = features.length / this.numFeatures;
      for (let r = 0; r < rows; r++) result[r] = outputOf(link, result[r]!);
    }
    return result;
  }

  predictMarginBatch(features: NumericArray, out?: Float32Array): Float32Array {
    return this.margins(features, out);
  }

  private marginOf(row: NumericArray, offset: number): number {
    return this.kernels === undefined ? rowMargin(this.c, row, offset) : this.kernels.row(row, offset);
  }

  private checkRow(row: NumericArray, offset: number): void {
    const { numFeatures } = this;
    if (row.length - offset < numFeatures) {
      throw errors.validation(`row has ${row.length - offset} features, the model needs ${numFeatures}`, {
        expected: numFeatures,
        got: row.length - offset,
      });
    }
  }

  private margins(features: NumericArray, out: Float32Array | undefined): Float32Array {
    const { numFeatures } = this;
    if (features.length % numFeatures !== 0) {
      throw errors.validation(`batch of ${features.length} values is not a whole number of rows of ${numFeatures} features`, {
        expected: numFeatures,
      });
    }
    const rows = features.length / numFeatures;
    let result = out;
    if (result === undefined) result = new Float32Array(rows);
    else if (result.length < rows) throw errors.validation(`output buffer holds ${result.length} values, batch has ${rows} rows`);
    const x = features instanceof Float32Array ? features : Float32Array.from(features);
    if (this.kernels === undefined) batchMargins(this.c, x, rows, result);
    else this.kernels.batch(x, rows, result);
    return result;
  }
}
