import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { compilePredictor, paramsFromXgboost, train } from '../../../src/gbdt/index.js';

/** Asserts a validation_failed AppError whose message matches. */
function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AppError, `expected AppError, got ${String(e)}`);
    assert.equal(e.code, 'validation_failed');
    assert.match(e.message, message);
    return true;
  });
}

const x = Float32Array.from({ length: 30 }, (_, i) => i % 7);
const y = Float32Array.from({ length: 10 }, (_, i) => i);

describe('bad input gives clear errors', () => {
  it('mismatched feature count', () => {
    rejects(() => train({ features: x, labels: y, numFeatures: 4 }), /feature matrix has 30 values, expected 10 rows x 4 features = 40/);
    const { model } = train({ features: x, labels: y, numFeatures: 3 }, { numBoostRound: 2 });
    const p = compilePredictor(model);
    rejects(() => p.predictRow([1, 2]), /row has 2 features, the model needs 3/);
    rejects(() => p.predictBatch(new Float32Array(7)), /7 values is not a whole number of rows of 3 features/);
    rejects(
      () => train({ features: x, labels: y, numFeatures: 3 }, {}, { validation: { features: new Float32Array(4), labels: [1, 2], numFeatures: 2 } }),
      /validation data has 2 features, training data has 3/,
    );
  });

  it('non-finite labels and features', () => {
    rejects(() => train({ features: x, labels: [...y.slice(0, 9), Number.NaN], numFeatures: 3 }), /label of row 9 is not a finite number/);
    rejects(() => train({ features: x, labels: [Number.POSITIVE_INFINITY, ...y.slice(1)], numFeatures: 3 }), /label of row 0/);
    const inf = Float32Array.from(x);
    inf[4] = Number.POSITIVE_INFINITY;
    rejects(() => train({ features: inf, labels: y, numFeatures: 3 }), /feature 1 of row 1 is infinite/);
  });

  it('empty data set', () => {
    rejects(() => train({ features: [], labels: [], numFeatures: 3 }), /empty/);
  });

  it('negative labels for Poisson and Tweedie, out-of-range labels for logistic', () => {
    const neg = Float32Array.from(y);
    neg[3] = -1;
    rejects(() => train({ features: x, labels: neg, numFeatures: 3 }, { objective: 'count:poisson' }), /row 3 is negative.*count:poisson needs labels >= 0/);
    rejects(() => train({ features: x, labels: neg, numFeatures: 3 }, { objective: 'reg:tweedie' }), /row 3 is negative.*reg:tweedie/);
    rejects(() => train({ features: x, labels: y, numFeatures: 3 }, { objective: 'binary:logistic' }), /binary:logistic needs labels in \[0, 1\]/);
  });

  it('bad parameters name the parameter', () => {
    rejects(() => train({ features: x, labels: y, numFeatures: 3 }, { maxDepth: 0 }), /maxDepth must be an integer in \[1, 30\]/);
    rejects(() => train({ features: x, labels: y, numFeatures: 3 }, { eta: 2 }), /eta must be in \(0, 1\]/);
    rejects(() => train({ features: x, labels: y, numFeatures: 3 }, { tweedieVariancePower: 2.5 }), /tweedieVariancePower/);
    rejects(() => train({ features: x, labels: y, numFeatures: 3 }, { earlyStoppingRounds: 3 }), /earlyStoppingRounds needs a validation set/);
    rejects(() => train({ features: x, labels: y, numFeatures: 3 }, { objective: 'multi:softmax' as never }), /unknown objective 'multi:softmax'/);
    rejects(() => paramsFromXgboost({ max_dept: 3 }), /unknown training parameter 'max_dept'/);
    assert.deepEqual(paramsFromXgboost({ max_depth: '4', colsample_bytree: 0.5, objective: 'count:poisson' }), {
      maxDepth: 4,
      colsampleBytree: 0.5,
      objective: 'count:poisson',
    });
  });

  it('bad categorical codes and feature kinds', () => {
    const cats = Float32Array.from(x);
    cats[3] = -2;
    rejects(
      () => train({ features: cats, labels: y, numFeatures: 3 }, {}, { featureKinds: ['categorical', 'numeric', 'numeric'] }),
      /feature 0 is categorical but row 1 holds -2/,
    );
    rejects(() => train({ features: x, labels: y, numFeatures: 3 }, {}, { featureKinds: ['numeric'] }), /featureKinds has 1 entries for 3 features/);
    rejects(() => train({ features: x, labels: y, numFeatures: 3 }, {}, { featureNames: ['a', 'a', 'b'] }), /duplicates/);
  });
});
