import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compileForest, decodeCompiledForest, encodeCompiledForest, importXgboostJson, predictorFromCompiled } from '../../../src/gbdt/index.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/xgboost/', import.meta.url));
const cases = (JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as { cases: Array<{ name: string; model: string; rows: (number | null)[] }> }).cases;
const SHA = 'a'.repeat(64);

describe('compiled layout bytes', () => {
  for (const c of cases) {
    it(`${c.name}: decodes to a layout that predicts exactly what the compiled model predicts`, () => {
      const layout = compileForest(importXgboostJson(readFileSync(join(FIXTURES, c.model), 'utf8')));
      const bytes = encodeCompiledForest(layout, SHA);
      // Decoding from an unaligned view of a larger buffer must work too (stores hand out such views).
      const shifted = new Uint8Array(bytes.length + 3);
      shifted.set(bytes, 3);
      const decoded = decodeCompiledForest(shifted.subarray(3), SHA);
      const rows = Float32Array.from(c.rows, (v) => v ?? Number.NaN);
      assert.deepEqual(predictorFromCompiled(decoded).predictBatch(rows), predictorFromCompiled(layout).predictBatch(rows));
      assert.deepEqual({ ...decoded }, { ...layout });
    });
  }

  it('refuses a layout made from another artifact, or bytes that are not one', () => {
    const layout = compileForest(importXgboostJson(readFileSync(join(FIXTURES, cases[0]!.model), 'utf8')));
    const bytes = encodeCompiledForest(layout, SHA);
    assert.throws(() => decodeCompiledForest(bytes, 'b'.repeat(64)), /compiled from another artifact/);
    assert.throws(() => decodeCompiledForest(new TextEncoder().encode('{"trees":[]}'), SHA), /not a compiled layout/);
    assert.throws(() => decodeCompiledForest(bytes.subarray(0, bytes.length - 64), SHA), /out of bounds/);
  });
});
