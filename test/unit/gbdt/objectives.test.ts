import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePredictor, train } from '../../../src/gbdt/index.js';
import { correlation, mae, makeFeatures, normal, poisson, rmse, seeded } from './synthetic.js';

const TRAIN = makeFeatures(1500, 5, 1);
const TEST = makeFeatures(500, 5, 2);
const params = { numBoostRound: 60, maxDepth: 4, eta: 0.2 };

function fitAndPredict(labels: Float32Array, objective: Parameters<typeof train>[1]): Float32Array {
  const { model } = train({ features: TRAIN.features, labels, numFeatures: 5 }, { ...params, ...objective });
  return compilePredictor(model).predictBatch(TEST.features);
}

describe('each objective learns a known function', () => {
  it('reg:squarederror recovers the signal under gaussian noise', () => {
    const rnd = seeded(3);
    const y = Float32Array.from(TRAIN.signal, (s) => s + 0.3 * normal(rnd));
    const pred = fitAndPredict(y, { objective: 'reg:squarederror' });
    const err = rmse(pred, TEST.signal);
    assert.ok(err < 0.25, `rmse to the true signal ${err}`);
  });

  it('reg:absoluteerror is robust to heavy-tailed outliers', () => {
    const rnd = seeded(4);
    // 10% of labels get a huge one-sided outlier that would drag a mean model up.
    const y = Float32Array.from(TRAIN.signal, (s) => s + 0.2 * normal(rnd) + (rnd() < 0.1 ? 40 : 0));
    const l1 = fitAndPredict(y, { objective: 'reg:absoluteerror' });
    const l2 = fitAndPredict(y, { objective: 'reg:squarederror' });
    const errL1 = mae(l1, TEST.signal);
    assert.ok(errL1 < 0.35, `mae of the L1 model to the signal ${errL1}`);
    assert.ok(errL1 < mae(l2, TEST.signal) / 3, 'the L1 model ignores outliers the L2 model follows');
  });

  it('reg:pseudohubererror fits the signal and resists outliers', () => {
    const rnd = seeded(5);
    const y = Float32Array.from(TRAIN.signal, (s) => s + 0.2 * normal(rnd) + (rnd() < 0.05 ? 30 : 0));
    const pred = fitAndPredict(y, { objective: 'reg:pseudohubererror', numBoostRound: 200, eta: 0.3 });
    const l2 = fitAndPredict(y, { objective: 'reg:squarederror' });
    const err = mae(pred, TEST.signal);
    // XGBoost 1.7 reaches 0.84 on this data; the squared-error model is pulled up by the outliers.
    assert.ok(err < 0.7, `mae to the signal ${err}`);
    assert.ok(err < mae(l2, TEST.signal), 'more robust than squared error');
  });

  it('count:poisson learns a log-linear rate', () => {
    const rnd = seeded(6);
    const rate = (s: number) => Math.exp(0.5 * s);
    const y = Float32Array.from(TRAIN.signal, (s) => poisson(rnd, rate(s)));
    const pred = fitAndPredict(y, { objective: 'count:poisson', numBoostRound: 120 });
    const truth = Array.from(TEST.signal, rate);
    assert.ok(pred.every((p) => p > 0), 'predicted rates are positive');
    const c = correlation(pred, truth);
    assert.ok(c > 0.9, `correlation with the true rate ${c}`);
    // XGBoost 1.7 with the same settings: correlation 0.93, rmse 0.64.
    assert.ok(rmse(pred, truth) < 0.75, `rmse to the true rate ${rmse(pred, truth)}`);
  });

  it('reg:tweedie learns the mean of zero-inflated counts', () => {
    const rnd = seeded(7);
    const mean = (s: number) => Math.exp(0.5 * s);
    // Compound: a Poisson number of gamma-ish claims, many zeros.
    const y = Float32Array.from(TRAIN.signal, (s) => {
      const k = poisson(rnd, mean(s) / 2);
      let total = 0;
      for (let i = 0; i < k; i++) total += 2 * -Math.log(1 - rnd());
      return total;
    });
    const pred = fitAndPredict(y, { objective: 'reg:tweedie', tweedieVariancePower: 1.4, numBoostRound: 150, eta: 0.05, maxDepth: 3 });
    const truth = Array.from(TEST.signal, mean);
    const c = correlation(pred, truth);
    assert.ok(c > 0.8, `correlation with the true mean ${c}`);
    let avg = 0;
    for (const v of y) avg += v / y.length;
    const constant = new Array(truth.length).fill(avg);
    assert.ok(rmse(pred, truth) < 0.6 * rmse(constant, truth), 'much better than predicting the mean');
  });

  it('binary:logistic learns probabilities', () => {
    const rnd = seeded(8);
    const prob = (s: number) => 1 / (1 + Math.exp(-2 * (s - 1.5)));
    const y = Float32Array.from(TRAIN.signal, (s) => (rnd() < prob(s) ? 1 : 0));
    const pred = fitAndPredict(y, { objective: 'binary:logistic' });
    assert.ok(pred.every((p) => p > 0 && p < 1), 'probabilities are in (0, 1)');
    const truth = Array.from(TEST.signal, prob);
    assert.ok(rmse(pred, truth) < 0.15, `rmse to the true probability ${rmse(pred, truth)}`);
  });
});
