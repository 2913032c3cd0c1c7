import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileForest, createArrayPredictor, encodeCompiledForest, predictorFromCompiled, serializeModel, train } from '../../../src/gbdt/index.js';
import { readLayoutFile, runModelLoadTask } from '../../../src/serving/model-load-task.js';
import { sealArtifact } from '../../../src/storage/artifact-seal.js';
import { BufferPool } from '../../../src/storage/buffer-pool.js';

const FEATURES = 4;
const rows = 300;
const x = new Float32Array(rows * FEATURES);
const y = new Float32Array(rows);
let s = 17;
const rand = () => {
  s = (s * 16807) % 2147483647;
  return s / 2147483647;
};
for (let r = 0; r < rows; r++) {
  for (let f = 0; f < FEATURES; f++) x[r * FEATURES + f] = rand() * 10;
  y[r] = x[r * FEATURES]! * 2 - x[r * FEATURES + 1]! + rand();
}
const model = train({ features: x, labels: y, numFeatures: FEATURES }, { numBoostRound: 12, maxDepth: 4, seed: 3 }).model;
const payload = serializeModel(model);
const digest = createHash('sha256').update(payload).digest('hex');
const task = (sealed: Uint8Array, expectedSha256 = digest) => ({ sealed, key: 'tenants/a/models/m/1/model.tml', expectedSha256, label: 'm@1' });

describe('runModelLoadTask', () => {
  it('compiles a sealed artifact into a layout that predicts like the array predictor', () => {
    const result = runModelLoadTask(task(sealArtifact(payload)));
    assert.ok(result.ok);
    const loaded = predictorFromCompiled(result.compiled);
    const reference = createArrayPredictor(model);
    for (let r = 0; r < 20; r++) {
      const row = x.subarray(r * FEATURES, (r + 1) * FEATURES);
      assert.equal(loaded.predictRow(row), reference.predictRow(row));
    }
    assert.equal(loaded.sizeBytes, reference.sizeBytes);
  });

  it('refuses an intact artifact whose digest is not the registered one', () => {
    const result = runModelLoadTask(task(sealArtifact(payload), '0'.repeat(64)));
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /does not match its registered digest/);
  });

  it('reports a corrupted payload as corrupt even when the envelope digest matches the registry', () => {
    const sealed = sealArtifact(payload);
    sealed[sealed.length - 1]! ^= 0xff;
    const result = runModelLoadTask(task(sealed));
    assert.equal(result.ok, false);
    assert.equal(result.ok ? '' : result.code, 'internal');
    assert.match(result.ok ? '' : result.message, /is corrupt: sha256 checksum mismatch/);
  });

  it('reports a corrupt envelope as corrupt, not as a digest mismatch', () => {
    const sealed = sealArtifact(payload);
    sealed[0] = 0;
    const result = runModelLoadTask(task(sealed));
    assert.match(result.ok ? '' : result.message, /bad magic/);
  });
});

describe('readLayoutFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenantml-layout-'));
  const layout = encodeCompiledForest(compileForest(model), digest);
  const fileWith = (name: string, bytes: Uint8Array) => {
    writeFileSync(join(dir, name), bytes);
    return join(dir, name);
  };
  const reference = createArrayPredictor(model);

  it('reads a sound layout, its arrays viewing the file\'s own bytes', () => {
    for (const checksum of ['sha256', 'crc32'] as const) {
      const compiled = readLayoutFile(fileWith(`sound-${checksum}.compiled`, sealArtifact(layout, checksum)), digest);
      assert.ok(compiled);
      assert.equal(compiled.threshold.buffer, compiled.child.buffer, 'one buffer, no copy per array');
      const loaded = predictorFromCompiled(compiled);
      for (let r = 0; r < 20; r++) {
        const row = x.subarray(r * FEATURES, (r + 1) * FEATURES);
        assert.equal(loaded.predictRow(row), reference.predictRow(row));
      }
    }
  });

  it('reads into pooled memory, and gives it back when the layout is refused', () => {
    const memory = new BufferPool(4 * 2 ** 20);
    const sound = fileWith('pooled.compiled', sealArtifact(layout, 'crc32'));
    const first = readLayoutFile(sound, digest, memory);
    assert.ok(first);
    assert.deepEqual(memory.stats(), { freeBytes: 0, buffers: 0, reused: 0, allocated: 1 });
    memory.give(first.child.buffer as ArrayBuffer); // the cache dropped it
    const damaged = sealArtifact(layout, 'crc32');
    damaged[damaged.length - 1]! ^= 1;
    assert.equal(readLayoutFile(fileWith('pooled-damaged.compiled', damaged), digest, memory), undefined);
    assert.equal(memory.stats().buffers, 1, 'the refused read returned its buffer');
    const second = readLayoutFile(sound, digest, memory);
    assert.ok(second);
    assert.equal(second.child.buffer, first.child.buffer, 'the same memory, reused');
    assert.equal(predictorFromCompiled(second).predictRow(x.subarray(0, FEATURES)), reference.predictRow(x.subarray(0, FEATURES)));
  });

  it('ignores a layout that is damaged, missing, unsealed or made from another artifact', () => {
    const damaged = sealArtifact(layout);
    damaged[damaged.length - 3]! ^= 0x5a;
    const other = sealArtifact(encodeCompiledForest(compileForest(model), '1'.repeat(64)));
    const paths = [fileWith('damaged.compiled', damaged), fileWith('other.compiled', other), fileWith('unsealed.compiled', layout), join(dir, 'missing')];
    for (const path of paths) assert.equal(readLayoutFile(path, digest), undefined, path);
    rmSync(dir, { recursive: true, force: true });
  });
});
