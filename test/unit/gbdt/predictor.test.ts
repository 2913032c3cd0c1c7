import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePredictor, createArrayPredictor, createJsPredictor, matrixFromRows, train } from '../../../src/gbdt/index.js';
import { generateSource } from '../../../src/gbdt/js-predictor.js';
import { compileForest } from '../../../src/gbdt/predictor.js';
import type { ObjectiveName } from '../../../src/gbdt/index.js';
import { referenceMargin } from './reference-walk.js';
import { makeFeatures, seeded } from './synthetic.js';

const data = makeFeatures(1200, 5, 31);
const r = seeded(32);
const features = Float32Array.from(data.features, (v, i) => (i % 5 === 4 ? Math.floor(v * 15) : r() < 0.1 ? Number.NaN : v));
const kinds = ['numeric', 'numeric', 'numeric', 'numeric', 'categorical'] as const;

describe('predictors', () => {
  for (const objective of ['reg:squarederror', 'count:poisson', 'binary:logistic'] as ObjectiveName[]) {
    it(`array walker and generated JS agree bit for bit (${objective})`, () => {
      const labels = Float32Array.from(data.signal, (s, i) =>
        objective === 'binary:logistic' ? (s > 1.5 ? 1 : 0) : objective === 'count:poisson' ? Math.round(Math.exp(s / 2)) : s + (features[i * 5 + 4]! % 3),
      );
      const { model } = train({ features, labels, numFeatures: 5 }, { objective, numBoostRound: 30, maxDepth: 6 }, { featureKinds: [...kinds] });
      const arrays = createArrayPredictor(model);
      const js = createJsPredictor(model);
      assert.equal(arrays.kind, 'arrays');
      assert.equal(js.kind, 'js');
      const probe = Float32Array.from({ length: 300 * 5 }, (_, i) =>
        i % 5 === 4 ? [Number.NaN, -1, 3, 7.9, 14, 99][i % 6]! : r() < 0.15 ? Number.NaN : r() * 1.2 - 0.1,
      );
      const a = arrays.predictMarginBatch(probe);
      const b = js.predictMarginBatch(Array.from(probe));
      assert.deepEqual(a, b);
      const base = compileForest(model).baseMargin;
      for (let row = 0; row < 300; row++) {
        const slice = probe.subarray(row * 5, row * 5 + 5);
        assert.equal(a[row], referenceMargin(model, slice, base));
        assert.equal(arrays.predictMarginRow(slice), a[row]);
        assert.equal(js.predictMarginRow(probe, row * 5), a[row]);
        assert.equal(arrays.predictRow(slice), js.predictRow(probe, row * 5));
      }
      assert.deepEqual(arrays.predictBatch(probe), js.predictBatch(probe));
    });
  }

  it('batches of a numeric-only model (lockstep kernel) equal row-by-row walks, including NaN and unbalanced trees', () => {
    const numeric = Float32Array.from(features, (v, i) => (i % 5 === 4 ? v / 15 : v));
    const { model } = train({ features: numeric, labels: Float32Array.from(data.signal), numFeatures: 5 }, { numBoostRound: 40, maxDepth: 7, minChildWeight: 5 });
    const arrays = createArrayPredictor(model);
    const js = createJsPredictor(model);
    const probe = Float32Array.from({ length: 333 * 5 }, () => (r() < 0.2 ? Number.NaN : r() * 1.4 - 0.2));
    const batch = arrays.predictMarginBatch(probe);
    const base = compileForest(model).baseMargin;
    for (let row = 0; row < 333; row++) {
      const expected = referenceMargin(model, probe.subarray(row * 5, row * 5 + 5), base);
      assert.equal(batch[row], expected);
      assert.equal(js.predictMarginRow(probe, row * 5), expected);
      assert.equal(arrays.predictMarginRow(probe, row * 5), expected);
    }
  });

  it('row-lockstep batches: groups with and without NaN, ragged tails and every batch length agree with single rows', () => {
    const numeric = Float32Array.from(features, (v, i) => (i % 5 === 4 ? v / 15 : v));
    const { model } = train({ features: numeric, labels: Float32Array.from(data.signal), numFeatures: 5 }, { numBoostRound: 37, maxDepth: 6 });
    const p = compilePredictor(model);
    const base = compileForest(model).baseMargin;
    // 200 rows + a ragged tail; NaN in a few rows only, so most 8-row groups are complete and some are not.
    const rows = 205;
    const probe = Float32Array.from({ length: rows * 5 }, (_, i) => (Math.floor(i / 5) % 23 === 3 && r() < 0.5 ? Number.NaN : r() * 1.4 - 0.2));
    const batch = p.predictMarginBatch(probe);
    let missingRows = 0;
    for (let row = 0; row < rows; row++) {
      const slice = probe.subarray(row * 5, row * 5 + 5);
      if (slice.some(Number.isNaN)) missingRows++;
      assert.equal(batch[row], referenceMargin(model, slice, base), `row ${row}`);
    }
    assert.ok(missingRows > 3 && missingRows < 20, 'the probe mixes complete and incomplete groups');
    for (let len = 1; len <= 70; len += 3) {
      const part = p.predictMarginBatch(probe.subarray(10 * 5, (10 + len) * 5));
      assert.deepEqual(part, batch.subarray(10, 10 + len), `batch of ${len}`);
    }
  });

  it('compares in float32: a float64 value just below a float32 threshold rounds onto it', () => {
    const x = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    const y = Float32Array.from([0, 0, 0, 0, 10, 10, 10, 10]);
    const { model } = train({ features: x, labels: y, numFeatures: 1 }, { numBoostRound: 1, minChildWeight: 0 });
    assert.equal(model.forest.value[0], 4, 'the split is x < 4');
    for (const p of [createArrayPredictor(model), createJsPredictor(model)]) {
      const justBelow = 4 - 1e-12;
      // As float32, 4 - 1e-12 is 4, so XGBoost sends it right, like 4 itself.
      assert.equal(p.predictRow([justBelow]), p.predictRow([4]));
      assert.notEqual(p.predictRow([3.9]), p.predictRow([4]));
    }
  });

  it('accepts plain arrays, typed arrays, offsets and caller-owned output buffers', () => {
    const { model } = train({ features, labels: Float32Array.from(data.signal), numFeatures: 5 }, { numBoostRound: 10 }, { featureKinds: [...kinds] });
    const p = compilePredictor(model);
    const rows = [
      [0.1, 0.2, null, 0.4, 3],
      [0.5, undefined, 0.7, 0.8, 2],
    ];
    const m = matrixFromRows(rows);
    assert.ok(Number.isNaN(m[2]!) && Number.isNaN(m[6]!));
    const out = new Float32Array(4).fill(-1);
    p.predictBatch(m, out);
    assert.equal(out[0], p.predictRow(Array.from(m.subarray(0, 5))));
    assert.equal(out[1], p.predictRow(Float64Array.from(m), 5));
    assert.equal(out[2], -1, 'values past the batch are untouched');
    assert.ok(p.sizeBytes > 0);
  });

  it('generated source holds only numbers from the model', () => {
    const { model } = train({ features, labels: Float32Array.from(data.signal), numFeatures: 5 }, { numBoostRound: 3, maxDepth: 2 }, { featureKinds: [...kinds] });
    const src = generateSource(compileForest(model));
    // Identifiers in the source: only the fixed vocabulary of the generator.
    const words = new Set(src.match(/[A-Za-z_$][\w$]*/g));
    for (const w of words) assert.ok(/^(use|strict|const|fr|Math|fround|function|c\d+|x|o|s|let|v|return|margin|inSet|bits|e|NaN|Infinity)$/.test(w), w);
  });
});

describe('predictors across threads', () => {
  it('a compiled forest survives a structured clone with its buffers transferred', async () => {
    const { compileForest: compile, predictorFromCompiled, transferablesOf, predictRow, predictorFor } = await import('../../../src/gbdt/index.js');
    const { model } = train({ features, labels: Float32Array.from(data.signal), numFeatures: 5 }, { numBoostRound: 10 }, { featureKinds: [...kinds] });
    const compiled = compile(model);
    const expected = createArrayPredictor(model).predictBatch(features);
    const moved = structuredClone(compiled, { transfer: transferablesOf(compiled) });
    assert.equal(compiled.value.byteLength, 0, 'buffers were transferred');
    assert.deepEqual(predictorFromCompiled(moved).predictBatch(features), expected);
    assert.equal(predictRow(model, features.subarray(0, 5)), expected[0]);
    assert.equal(predictorFor(model), predictorFor(model), 'the convenience predictor is cached per model');
  });
});
