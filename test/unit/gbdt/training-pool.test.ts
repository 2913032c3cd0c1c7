import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { createTrainingPool, deserializeModel, serializeModel, train } from '../../../src/gbdt/index.js';
import type { RoundProgress } from '../../../src/gbdt/index.js';
import { makeFeatures } from './synthetic.js';

describe('training pool', () => {
  const pool = createTrainingPool({ threads: 2 });
  after(() => pool.close());
  const data = makeFeatures(800, 4, 51);
  const ds = { features: data.features, labels: Float32Array.from(data.signal), numFeatures: 4 };

  it('trains off the main thread, byte-identical to training in-thread, with progress', async () => {
    const progress: RoundProgress[] = [];
    const params = { numBoostRound: 15, subsample: 0.8, seed: 7 };
    const valid = makeFeatures(200, 4, 52);
    const validation = { features: valid.features, labels: Float32Array.from(valid.signal), numFeatures: 4 };
    const result = await pool.train(ds, params, { validation, onProgress: (p) => progress.push(p) });
    const local = train(ds, params, { validation });
    assert.ok(Buffer.from(result.artifact).equals(Buffer.from(serializeModel(local.model))));
    assert.equal(result.metrics.rounds, 15);
    assert.deepEqual(
      progress.map((p) => p.round),
      Array.from({ length: 15 }, (_, i) => i + 1),
    );
    assert.equal(progress.at(-1)!.validScore, local.metrics.validHistory.at(-1));
    assert.equal(deserializeModel(result.artifact).forest.numTrees, 15);
  });

  it('runs many jobs concurrently and keeps each result with its job', async () => {
    const jobs = [3, 5, 7, 9, 11, 13].map((rounds) => pool.train(ds, { numBoostRound: rounds }));
    const results = await Promise.all(jobs);
    assert.deepEqual(
      results.map((r) => deserializeModel(r.artifact).forest.numTrees),
      [3, 5, 7, 9, 11, 13],
    );
    assert.equal(pool.pending(), 0);
  });

  it('cancels a running job with an AbortSignal and stays usable', async () => {
    const controller = new AbortController();
    let rounds = 0;
    const job = pool.train(ds, { numBoostRound: 100000 }, { signal: controller.signal, onProgress: (p) => (rounds = p.round) });
    while (rounds < 3) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await assert.rejects(job, (e: Error) => e.name === 'AbortError');
    const again = await pool.train(ds, { numBoostRound: 2 });
    assert.equal(deserializeModel(again.artifact).forest.numTrees, 2);
    await assert.rejects(pool.train(ds, {}, { signal: AbortSignal.abort() }), (e: Error) => e.name === 'AbortError');
  });

  it('keeps validation errors typed across the thread boundary', async () => {
    await assert.rejects(
      pool.train({ ...ds, labels: Float32Array.from(ds.labels, (v) => -Math.abs(v) - 1) }, { objective: 'count:poisson' }),
      (e: unknown) => e instanceof AppError && e.code === 'validation_failed' && /negative/.test(e.message),
    );
  });

  it('moves the caller buffers when asked to', async () => {
    const features = Float32Array.from(ds.features);
    await pool.train({ ...ds, features, labels: Float32Array.from(ds.labels) }, { numBoostRound: 2 }, { transfer: true });
    assert.equal(features.byteLength, 0, 'the buffer was transferred, not copied');
  });
});
