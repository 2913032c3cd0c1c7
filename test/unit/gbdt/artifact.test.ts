import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { crc32Portable, crc32 } from '../../../src/gbdt/crc32.js';
import { compilePredictor, deserializeModel, modelSizeBytes, serializeModel, train } from '../../../src/gbdt/index.js';
import { makeFeatures, seeded } from './synthetic.js';

const data = makeFeatures(2000, 6, 21);
const r = seeded(22);
const features = Float32Array.from(data.features, (v) => (r() < 0.05 ? Number.NaN : v));
features.forEach((_, i) => {
  if (i % 6 === 5) features[i] = Math.floor(r() * 12);
});
const { model } = train(
  { features, labels: Float32Array.from(data.signal), numFeatures: 6 },
  { numBoostRound: 100, maxDepth: 6 },
  { featureNames: ['a', 'b', 'c', 'd', 'e', 'store'], featureKinds: ['numeric', 'numeric', 'numeric', 'numeric', 'numeric', 'categorical'] },
);
const bytes = serializeModel(model);

function assertCorrupt(input: Uint8Array, message: RegExp): void {
  assert.throws(
    () => deserializeModel(input),
    (e: unknown) => e instanceof AppError && e.code === 'validation_failed' && message.test(e.message),
  );
}

describe('model artifact', () => {
  it('round-trips a model exactly', () => {
    const back = deserializeModel(bytes);
    assert.deepEqual(back, model);
    assert.ok(Buffer.from(serializeModel(back)).equals(Buffer.from(bytes)));
    const a = compilePredictor(model).predictBatch(features);
    const b = compilePredictor(back).predictBatch(features);
    assert.deepEqual(a, b);
  });

  it('accepts an unaligned view and an ArrayBuffer', () => {
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    assert.deepEqual(deserializeModel(shifted.subarray(1)), model);
    assert.deepEqual(deserializeModel(bytes.slice().buffer), model);
  });

  it('reports corruption, truncation and foreign bytes clearly', () => {
    const flipped = bytes.slice();
    flipped[bytes.length - 100]! ^= 0x40;
    assertCorrupt(flipped, /checksum mismatch/);
    assertCorrupt(bytes.subarray(0, bytes.length - 8), /truncated/);
    assertCorrupt(bytes.subarray(0, 20), /truncated/);
    assertCorrupt(new TextEncoder().encode('{"learner": "this is not an artifact at all....."}'), /bad magic/);
    const future = bytes.slice();
    future[4] = 99;
    assert.throws(() => deserializeModel(future), /format version 99 is not supported/);
  });

  it('checks structure even when the checksum matches', () => {
    // Re-serialize a model whose tree points outside itself: the loader must refuse it.
    const broken = deserializeModel(bytes);
    broken.forest.left[0] = 100000;
    assertCorrupt(serializeModel(broken), /invalid model: tree 0 node 0 has invalid children/);
  });

  it('loads a 100-tree depth-6 model quickly', () => {
    assert.equal(model.forest.numTrees, 100);
    for (let i = 0; i < 50; i++) deserializeModel(bytes);
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      deserializeModel(bytes);
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    const median = times[100]!;
    // A loose bound so a noisy machine cannot fail it; `npm run bench -- gbdt` reports the real figure.
    assert.ok(median < 5, `median load ${median.toFixed(3)} ms for ${bytes.length} bytes`);
    assert.ok(modelSizeBytes(model) >= bytes.length * 0.8, 'sizeBytes accounts for the arrays');
  });

  it('uses standard CRC-32', () => {
    const check = new TextEncoder().encode('123456789');
    assert.equal(crc32Portable(check), 0xcbf43926);
    assert.equal(crc32(check), 0xcbf43926);
    assert.equal(crc32(bytes), crc32Portable(bytes));
  });
});
