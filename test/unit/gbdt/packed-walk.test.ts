import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileForest, createArrayPredictor, decodeCompiledForest, encodeCompiledForest, train } from '../../../src/gbdt/index.js';
import { MAX_PACKED_DEPTH, packNodes } from '../../../src/gbdt/packed-walk.js';
import { referenceMargin } from './reference-walk.js';
import { makeFeatures, seeded } from './synthetic.js';

/** The float32 next to `v` towards +∞ or -∞. */
function nextFloat32(v: number, up: boolean): number {
  const bits = new Float32Array(1);
  const word = new Int32Array(bits.buffer);
  bits[0] = v;
  if (v === 0) return up ? 1.4e-45 : -1.4e-45;
  word[0]! += (v > 0) === up ? 1 : -1;
  return bits[0]!;
}

const data = makeFeatures(1500, 6, 41);

describe('packed single-row walk', () => {
  for (const trees of [37, 100]) {
    it(`${trees} trees: rows on, just above and just below every threshold, zeros of both signs and infinities walk as the reference does`, () => {
      const { model } = train({ features: data.features, labels: Float32Array.from(data.signal), numFeatures: 6 }, { numBoostRound: trees, maxDepth: 6, seed: trees });
      const layout = compileForest(model);
      assert.equal(layout.packed.length, trees << layout.packedDepth, 'the numeric forest packs');
      assert.equal(layout.packedDepth, 6);
      const predictor = createArrayPredictor(model);
      const thresholds = new Set<number>();
      for (let n = 0; n < layout.child.length; n++) if (layout.child[n]! > n) thresholds.add(layout.threshold[n]!);
      const probes = [...thresholds].flatMap((t) => [t, nextFloat32(t, true), nextFloat32(t, false)]);
      probes.push(0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-12 - 0.5);
      const rnd = seeded(trees);
      let rows = 0;
      for (let i = 0; i < probes.length; i++) {
        // Each probe in every feature's slot in turn, the other features from the probes too: every rank is reached.
        const row = Array.from({ length: 6 }, (_, f) => (f === i % 6 ? probes[i]! : probes[Math.floor(rnd() * probes.length)]!));
        const expected = referenceMargin(model, row, layout.baseMargin);
        assert.equal(predictor.predictMarginRow(row), expected, `row ${JSON.stringify(row)}`);
        assert.equal(predictor.predictMarginBatch(Float32Array.from(row))[0], expected, `row ${JSON.stringify(row)} as a batch of one`);
        rows++;
      }
      assert.ok(rows > 3 * 100, `${rows} rows probed`);
    });
  }

  it('a forest deeper than the packed depth, or with more features than a node holds, is not packed, and the array kernels walk it', () => {
    const deep = train({ features: data.features, labels: Float32Array.from(data.signal), numFeatures: 6 }, { numBoostRound: 12, maxDepth: 12, minChildWeight: 0 }).model;
    const layout = compileForest(deep);
    assert.ok(Math.max(...layout.treeDepth) > MAX_PACKED_DEPTH, 'some tree is deeper than packed trees go');
    assert.equal(layout.packed.length, 0);
    const predictor = createArrayPredictor(deep);
    for (let row = 0; row < 200; row++) {
      const x = data.features.subarray(row * 6, row * 6 + 6);
      assert.equal(predictor.predictMarginRow(x), referenceMargin(deep, x, layout.baseMargin));
    }
    // The same shallow forest packs with 6 features and does not with 2^17 (17 bits of feature alone).
    const { model } = train({ features: data.features, labels: Float32Array.from(data.signal), numFeatures: 6 }, { numBoostRound: 5, maxDepth: 4 });
    const shallow = compileForest(model);
    assert.ok(packNodes(shallow).packed.length > 0);
    assert.equal(packNodes({ ...shallow, numFeatures: 1 << 17 }).packed.length, 0);
  });

  it('layouts of the format before packed nodes are refused (the artifact is compiled again), and so are malformed packed nodes', () => {
    const { model } = train({ features: data.features, labels: Float32Array.from(data.signal), numFeatures: 6 }, { numBoostRound: 10, maxDepth: 4 });
    const layout = compileForest(model);
    const sha = 'c'.repeat(64);
    const bytes = encodeCompiledForest(layout, sha);
    const text = Buffer.from(bytes).toString('latin1');
    const older = Buffer.from(text.replace('"version":2', '"version":1'), 'latin1');
    assert.throws(() => decodeCompiledForest(older, sha), /format version 1/);
    const truncated = encodeCompiledForest({ ...layout, packedLeaves: layout.packedLeaves.subarray(1) }, sha);
    assert.throws(() => decodeCompiledForest(truncated, sha), /malformed packed nodes/);
    const wide = encodeCompiledForest({ ...layout, packedFeatureBits: 17 }, sha);
    assert.throws(() => decodeCompiledForest(wide, sha), /malformed packed nodes/);
  });
});
