import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CompiledForest, compileForest, decodeCompiledForest, encodeCompiledForest, importXgboostJson, predictorFromCompiled, transferablesOf } from '../../../src/gbdt/index.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/xgboost/', import.meta.url));
const cases = (JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as { cases: Array<{ name: string; model: string; rows: (number | null)[] }> }).cases;
const SHA = 'a'.repeat(64);
const ARRAY_FIELDS = ['roots', 'treeDepth', 'stepFeature', 'threshold', 'value', 'child', 'missLeft', 'groupDepth', 'catOffset', 'catWords', 'catBits', 'packed', 'packedLeaves', 'cuts', 'cutStart'] as const;
const SCALAR_FIELDS = ['numFeatures', 'link', 'baseMargin', 'hasCategorical', 'packedDepth', 'packedFeatureBits'] as const;
/** A layout's fields as a plain object (a decoded layout's arrays are getters, which a spread would not copy). */
const fieldsOf = (c: CompiledForest) => Object.fromEntries([...ARRAY_FIELDS, ...SCALAR_FIELDS].map((name) => [name, c[name]]));

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
      assert.deepEqual(fieldsOf(decoded), fieldsOf(layout));
      assert.equal(predictorFromCompiled(decoded).sizeBytes, predictorFromCompiled(layout).sizeBytes, 'the cache counts a decoded model as it counts a compiled one');
    });
  }

  it('views each array of a decoded layout once, in the buffer the layout was read into', () => {
    const layout = compileForest(importXgboostJson(readFileSync(join(FIXTURES, cases[0]!.model), 'utf8')));
    const bytes = encodeCompiledForest(layout, SHA);
    const decoded = decodeCompiledForest(bytes, SHA, { inPlace: true });
    assert.equal(decoded.buffer, bytes.buffer, 'in place: no copy');
    for (const name of ARRAY_FIELDS) {
      const array = decoded[name];
      assert.equal(decoded[name], array, `${name}: one view, made once`);
      if (array.length > 0) assert.equal(array.buffer, decoded.buffer, `${name} views the layout's buffer`);
    }
  });

  it('walks single rows of a decoded layout through views of its whole buffer, made once per buffer', () => {
    const numeric = cases.find((c) => !importXgboostJson(readFileSync(join(FIXTURES, c.model), 'utf8')).featureKinds.includes('categorical'))!;
    const layout = compileForest(importXgboostJson(readFileSync(join(FIXTURES, numeric.model), 'utf8')));
    assert.ok(layout.walk.trees > 0, 'the fixture packs');
    assert.equal(layout.walk.nodes, layout.packed, "a compiled forest's walk reads its own arrays");
    const bytes = encodeCompiledForest(layout, SHA);
    const memory = new Uint8Array(bytes.length + 64); // a pooled buffer, larger than the layout
    memory.set(bytes);
    const first = decodeCompiledForest(memory.subarray(0, bytes.length), SHA, { inPlace: true });
    memory.set(bytes, 8); // the same buffer, read into again (by another model, after the first was dropped)
    const second = decodeCompiledForest(memory.subarray(8, 8 + bytes.length), SHA, { inPlace: true });
    assert.equal(second.walk.nodes, first.walk.nodes, 'one view of the buffer for every layout read into it');
    assert.equal(second.walk.nodes.buffer, memory.buffer);
    assert.equal(second.walk.nodesAt, first.walk.nodesAt + 4, 'each layout reads from where its own nodes lie');
    const expected = predictorFromCompiled(layout);
    const decoded = predictorFromCompiled(second);
    const rows = Float32Array.from(numeric.rows, (v) => v ?? 0.5); // complete rows: the packed walk takes them
    for (let o = 0; o + layout.numFeatures <= rows.length; o += layout.numFeatures) {
      assert.equal(decoded.predictRow(rows, o), expected.predictRow(rows, o));
    }
    assert.deepEqual(second.packed, layout.packed, 'the packed nodes as an array of their own, on first use');
  });

  it('keeps no per-node category arrays for a numeric forest, and still reads layouts that kept them', () => {
    const models = cases.map((c) => ({ c, model: importXgboostJson(readFileSync(join(FIXTURES, c.model), 'utf8')) }));
    const numeric = models.find(({ model }) => !model.featureKinds.includes('categorical'))!;
    const categorical = models.find(({ model }) => model.featureKinds.includes('categorical'))!;
    const layout = compileForest(numeric.model);
    assert.equal(layout.hasCategorical, false);
    assert.deepEqual([layout.catOffset.length, layout.catWords.length], [0, 0]);
    const nodes = layout.child.length;
    // As layouts were written before: both arrays full, -1 and 0 at every node. They decode and predict the same.
    const older = { ...layout, catOffset: new Int32Array(nodes).fill(-1), catWords: new Int32Array(nodes) };
    const decoded = decodeCompiledForest(encodeCompiledForest(older, SHA), SHA);
    const rows = Float32Array.from(numeric.c.rows, (v) => v ?? Number.NaN);
    assert.deepEqual(predictorFromCompiled(decoded).predictBatch(rows), predictorFromCompiled(layout).predictBatch(rows));
    // A categorical forest needs them: a layout without them is refused, never walked.
    const withCategories = compileForest(categorical.model);
    assert.equal(withCategories.catOffset.length, withCategories.child.length);
    const stripped = encodeCompiledForest({ ...withCategories, catOffset: new Int32Array(0), catWords: new Int32Array(0) }, SHA);
    assert.throws(() => decodeCompiledForest(stripped, SHA), /array catOffset does not match the node count/);
  });

  it('shares one empty array among decoded layouts, and moving a layout to a thread never takes it', () => {
    const numeric = cases.map((c) => importXgboostJson(readFileSync(join(FIXTURES, c.model), 'utf8'))).find((m) => !m.featureKinds.includes('categorical'))!;
    const bytes = encodeCompiledForest(compileForest(numeric), SHA);
    const [a, b] = [decodeCompiledForest(bytes, SHA), decodeCompiledForest(bytes, SHA)];
    assert.equal(a.catBits.length, 0);
    assert.equal(a.catBits, b.catBits, 'one view, not one per load');
    assert.notEqual(a.child, b.child);
    const moved = transferablesOf(a);
    assert.ok(moved.length > 0 && moved.every((buffer) => buffer.byteLength > 0));
    structuredClone(a, { transfer: moved });
    assert.equal(a.child.length, 0, 'a moved layout is detached here');
    // The other layout, sharing the empty arrays, is intact: encoding views every array's buffer (a detached one throws).
    assert.deepEqual(decodeCompiledForest(encodeCompiledForest(b, SHA), SHA).child, b.child);
  });

  it('refuses a layout made from another artifact, or bytes that are not one', () => {
    const layout = compileForest(importXgboostJson(readFileSync(join(FIXTURES, cases[0]!.model), 'utf8')));
    const bytes = encodeCompiledForest(layout, SHA);
    assert.throws(() => decodeCompiledForest(bytes, 'b'.repeat(64)), /compiled from another artifact/);
    assert.throws(() => decodeCompiledForest(new TextEncoder().encode('{"trees":[]}'), SHA), /not a compiled layout/);
    assert.throws(() => decodeCompiledForest(bytes.subarray(0, bytes.length - 64), SHA), /out of bounds/);
  });
});
