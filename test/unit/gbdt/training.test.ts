import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePredictor, featureImportance, serializeModel, train } from '../../../src/gbdt/index.js';
import type { GbdtModel } from '../../../src/gbdt/index.js';
import { makeFeatures, normal, rmse, seeded } from './synthetic.js';

function treeDepths(model: GbdtModel): number[] {
  const f = model.forest;
  const depths: number[] = [];
  for (let t = 0; t < f.numTrees; t++) {
    const start = f.treeStart[t]!;
    let max = 0;
    const stack: [number, number][] = [[0, 0]];
    while (stack.length > 0) {
      const [n, d] = stack.pop()!;
      max = Math.max(max, d);
      if (f.left[start + n] !== -1) stack.push([f.left[start + n]!, d + 1], [f.right[start + n]!, d + 1]);
    }
    depths.push(max);
  }
  return depths;
}

describe('training', () => {
  const data = makeFeatures(1000, 4, 11);
  const rnd = seeded(12);
  const labels = Float32Array.from(data.signal, (s) => s + 0.2 * normal(rnd));
  const ds = { features: data.features, labels, numFeatures: 4 };

  it('learns where missing values should go', () => {
    // y is high exactly when x0 is missing, so the tree must send NaN to the high side.
    const n = 800;
    const r = seeded(13);
    const x = new Float32Array(n * 2);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const missing = r() < 0.3;
      const v = r();
      x[2 * i] = missing ? Number.NaN : v;
      x[2 * i + 1] = r();
      y[i] = missing ? 10 : v < 0.5 ? 0 : 2;
    }
    const { model } = train({ features: x, labels: y, numFeatures: 2 }, { numBoostRound: 30 });
    const p = compilePredictor(model);
    assert.ok(Math.abs(p.predictRow([Number.NaN, 0.5]) - 10) < 0.2, `missing -> ${p.predictRow([Number.NaN, 0.5])}`);
    assert.ok(Math.abs(p.predictRow([0.2, 0.5]) - 0) < 0.2);
    assert.ok(Math.abs(p.predictRow([0.8, 0.5]) - 2) < 0.2);
  });

  it('stops early on a validation set and keeps the best iteration', () => {
    const valid = makeFeatures(300, 4, 14);
    const vr = seeded(15);
    const vlabels = Float32Array.from(valid.signal, (s) => s + 0.2 * normal(vr));
    const rounds: number[] = [];
    const { model, metrics } = train(
      ds,
      { numBoostRound: 500, eta: 0.5, earlyStoppingRounds: 5 },
      { validation: { features: valid.features, labels: vlabels, numFeatures: 4 }, onRound: (p) => rounds.push(p.round) },
    );
    assert.ok(metrics.rounds < 500, `stopped after ${metrics.rounds} rounds`);
    assert.equal(metrics.rounds, metrics.bestIteration + 6);
    assert.equal(model.forest.numTrees, metrics.bestIteration + 1);
    assert.equal(model.bestIteration, metrics.bestIteration);
    assert.deepEqual(rounds, Array.from({ length: metrics.rounds }, (_, i) => i + 1));
    const best = Math.min(...metrics.validHistory);
    assert.equal(metrics.validHistory[metrics.bestIteration], best);
    // The reported score is the kept model's score on the validation rows.
    const pred = compilePredictor(model).predictBatch(valid.features);
    assert.ok(Math.abs(rmse(pred, vlabels) - metrics.validScore!) < 1e-6);
  });

  it('is deterministic: same data, params and seed give byte-identical artifacts', () => {
    const params = { numBoostRound: 20, subsample: 0.7, colsampleBytree: 0.5, seed: 42 };
    const a = serializeModel(train(ds, params).model);
    const b = serializeModel(train(ds, params).model);
    assert.ok(Buffer.from(a).equals(Buffer.from(b)));
    const c = serializeModel(train(ds, { ...params, seed: 43 }).model);
    assert.ok(!Buffer.from(a).equals(Buffer.from(c)), 'another seed samples differently');
  });

  it('respects maxDepth and gamma', () => {
    const shallow = train(ds, { numBoostRound: 5, maxDepth: 2 }).model;
    assert.ok(treeDepths(shallow).every((d) => d <= 2));
    const deep = train(ds, { numBoostRound: 5, maxDepth: 6 }).model;
    assert.ok(treeDepths(deep).some((d) => d === 6));
    const pruned = train(ds, { numBoostRound: 5, maxDepth: 6, gamma: 5 }).model;
    assert.ok(pruned.forest.left.length < deep.forest.left.length, 'gamma removes weak splits');
    for (let i = 0; i < pruned.forest.left.length; i++) {
      if (pruned.forest.left[i] !== -1) assert.ok(pruned.forest.gain[i]! >= 5);
    }
  });

  it('shrinks leaves with lambda and alpha, and min_child_weight limits splits', () => {
    const leafSum = (m: GbdtModel) => {
      let s = 0;
      for (let i = 0; i < m.forest.left.length; i++) if (m.forest.left[i] === -1) s += Math.abs(m.forest.value[i]!);
      return s;
    };
    const base = train(ds, { numBoostRound: 1, maxDepth: 3 }).model;
    assert.ok(leafSum(train(ds, { numBoostRound: 1, maxDepth: 3, lambda: 200 }).model) < leafSum(base));
    assert.ok(leafSum(train(ds, { numBoostRound: 1, maxDepth: 3, alpha: 200 }).model) < leafSum(base));
    const heavy = train(ds, { numBoostRound: 1, maxDepth: 6, minChildWeight: 200 }).model;
    for (let i = 0; i < heavy.forest.left.length; i++) assert.ok(heavy.forest.cover[i]! >= 200);
  });

  it('splits categorical features by category sets and beats an integer encoding', () => {
    // 30 tenants with unrelated effects: a category set split isolates them, thresholds cannot.
    const n = 3000;
    const r = seeded(16);
    const effect = Array.from({ length: 30 }, () => 3 * normal(r));
    const x = new Float32Array(n * 2);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const tenant = Math.floor(r() * 30);
      x[2 * i] = tenant;
      x[2 * i + 1] = r();
      y[i] = effect[tenant]! + x[2 * i + 1]! + 0.1 * normal(r);
    }
    const d = { features: x, labels: y, numFeatures: 2 };
    const params = { numBoostRound: 8, maxDepth: 3 };
    const cat = train(d, params, { featureKinds: ['categorical', 'numeric'] }).model;
    const num = train(d, params).model;
    assert.ok(cat.forest.catNodes.length > 0, 'the model has categorical splits');
    const errCat = rmse(compilePredictor(cat).predictBatch(x), y);
    const errNum = rmse(compilePredictor(num).predictBatch(x), y);
    assert.ok(errCat < 0.8 * errNum, `categorical ${errCat} vs integer id ${errNum}`);
    // Categories never seen in training follow XGBoost: not in any set, so they go left.
    assert.ok(Number.isFinite(compilePredictor(cat).predictRow([1000, 0.5])));
  });

  it('reports gain importance that ranks the informative features first', () => {
    const model = train(ds, { numBoostRound: 20 }).model;
    const gain = featureImportance(model, 'gain');
    const total = featureImportance(model, 'total_gain');
    // x0, x1 and x2 carry the signal; x3 is noise and must rank last.
    assert.deepEqual(total.slice(0, 3).map((e) => e.index).sort(), [0, 1, 2]);
    assert.ok(total.length < 4 || total[3]!.value < total[2]!.value / 10, 'the noise feature gains little');
    for (const g of gain) assert.ok(g.value > 0 && g.name === `f${g.index}`);
    const weight = featureImportance(model, 'weight');
    const splits = model.forest.left.filter((l) => l !== -1).length;
    assert.equal(weight.reduce((s, e) => s + e.value, 0), splits);
  });
});
