import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAppError } from '../../../src/errors.js';
import { normalizeInPlace } from '../../../src/rag/embedding/embedder.js';
import { chooseIndexKind, createVectorIndex, loadVectorIndex } from '../../../src/rag/index/create-vector-index.js';
import { ExactIndex } from '../../../src/rag/index/exact-index.js';
import { HnswIndex } from '../../../src/rag/index/hnsw-index.js';
import { CorruptIndexError, encodeIndex, readIndexHeader } from '../../../src/rag/index/index-format.js';
import type { SearchHit, VectorIndex } from '../../../src/rag/index/vector-index.js';

const DIM = 32;

/** Deterministic unit vectors (mulberry32), clustered so neighbours are meaningful. */
function vectors(count: number, seed: number, dim = DIM): Float32Array[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const centres = Array.from({ length: 8 }, () => Float32Array.from({ length: dim }, () => rand() - 0.5));
  return Array.from({ length: count }, (_, i) => {
    const c = centres[i % 8]!;
    return normalizeInPlace(Float32Array.from({ length: dim }, (_, j) => c[j]! + (rand() - 0.5) * 0.8));
  });
}

function bruteForce(ids: number[], vs: Float32Array[], q: Float32Array, k: number, filter?: (id: number) => boolean): SearchHit[] {
  return ids
    .map((id, i) => ({ id, score: vs[i]!.reduce((s, x, j) => s + x * q[j]!, 0) }))
    .filter((h) => !filter || filter(h.id))
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, k);
}

function flat(vs: Float32Array[]): Float32Array {
  const out = new Float32Array(vs.length * (vs[0]?.length ?? 0));
  vs.forEach((v, i) => {
    out.set(v, i * v.length);
  });
  return out;
}

const isCorrupt = (pattern: RegExp) => (e: unknown) => e instanceof CorruptIndexError && isAppError(e) && pattern.test(e.message);

describe('ExactIndex', () => {
  const vs = vectors(300, 1);
  const ids = vs.map((_, i) => i * 3 + 1);
  const queries = vectors(10, 99);

  it('returns the true top-k, best first', () => {
    const index = new ExactIndex(DIM);
    index.add(ids, vs);
    assert.equal(index.size, 300);
    for (const q of queries) {
      const got = index.search(q, 7);
      const want = bruteForce(ids, vs, q, 7);
      assert.deepEqual(got.map((h) => h.id), want.map((h) => h.id));
      got.forEach((h, i) => {
        assert.ok(Math.abs(h.score - want[i]!.score) < 1e-5);
      });
    }
  });

  it('upserts, removes and keeps answering correctly', () => {
    const index = new ExactIndex(DIM);
    index.add(ids, vs);
    const removed = ids.filter((_, i) => i % 4 === 0);
    assert.equal(index.remove([...removed, 999_999]), removed.length);
    const replacement = vectors(1, 7)[0]!;
    index.add([ids[1]!], [replacement]);
    assert.equal(index.size, 300 - removed.length);
    assert.deepEqual(index.vector(ids[1]!), replacement);
    assert.equal(index.search(replacement, 1)[0]!.id, ids[1]);
    const left = new Set(removed);
    for (const q of queries) for (const h of index.search(q, 20)) assert.ok(!left.has(h.id), 'removed ids never come back');
  });

  it('orders equal scores by id', () => {
    const index = new ExactIndex(2);
    const v = Float32Array.from([1, 0]);
    index.add([5, 2, 9], [v, v, v]);
    assert.deepEqual(index.search(v, 2).map((h) => h.id), [2, 5]);
  });

  it('filters without returning fewer than k when k match', () => {
    const index = new ExactIndex(DIM);
    index.add(ids, vs);
    const filter = (id: number) => id % 2 === 0;
    for (const q of queries) {
      const got = index.search(q, 10, filter);
      assert.equal(got.length, 10);
      assert.deepEqual(got.map((h) => h.id), bruteForce(ids, vs, q, 10, filter).map((h) => h.id));
    }
  });

  it('round-trips through bytes with its generation', () => {
    const index = new ExactIndex(DIM, 41);
    index.add(ids, vs);
    index.generation = 42;
    const bytes = index.serialize();
    const header = readIndexHeader(bytes);
    assert.deepEqual([header.kind, header.dimension, header.count, header.generation, header.formatVersion], ['exact', DIM, 300, 42, 1]);
    const loaded = loadVectorIndex(bytes);
    assert.equal(loaded.kind, 'exact');
    assert.equal(loaded.generation, 42);
    for (const q of queries) assert.deepEqual(loaded.search(q, 5), index.search(q, 5));
  });

  it('rejects corrupt bytes with a clear error', () => {
    const index = new ExactIndex(DIM);
    index.add(ids, vs);
    const bytes = index.serialize();
    const flipped = bytes.slice();
    flipped[bytes.length - 3]! ^= 0xff;
    assert.throws(() => ExactIndex.load(flipped), isCorrupt(/payload checksum/));
    assert.throws(() => ExactIndex.load(bytes.slice(0, bytes.length - 100)), isCorrupt(/truncated/));
    assert.throws(() => ExactIndex.load(bytes.slice(0, 20)), isCorrupt(/shorter than the header/));
    const badHeader = bytes.slice();
    badHeader[12]! ^= 1;
    assert.throws(() => ExactIndex.load(badHeader), isCorrupt(/header checksum/));
    assert.throws(() => ExactIndex.load(new TextEncoder().encode('x'.repeat(100))), isCorrupt(/magic/));
  });

  it('a loaded index edits and answers like one built with the same contents; a repeated id is refused at load', () => {
    const index = new ExactIndex(DIM, 1);
    index.add(ids, vs);
    const loaded = ExactIndex.load(index.serialize(), { adopt: true, verified: true });
    // ids are 1, 4, 7, 10, …: id 3k+1 holds vs[k].
    assert.ok(loaded.has(7) && !loaded.has(8));
    assert.equal(loaded.remove([7, 13, 8]), 2);
    loaded.add([5000, 10], [vs[0]!, vs[1]!]);
    const expected = new ExactIndex(DIM, 1);
    const kept = ids.filter((id) => id !== 7 && id !== 13 && id !== 10);
    expected.add(kept, kept.map((id) => vs[(id - 1) / 3]!));
    expected.add([5000, 10], [vs[0]!, vs[1]!]);
    assert.equal(loaded.size, expected.size);
    for (const q of queries) assert.deepEqual(loaded.search(q, 8), expected.search(q, 8));
    assert.deepEqual(loaded.vector(5000), vs[0]);
    const twice = encodeIndex('exact', DIM, 1, Float64Array.from([3, 1, 3]), flat([vs[0]!, vs[1]!, vs[2]!]));
    assert.throws(() => ExactIndex.load(twice), /index id 3 appears twice/);
  });

  it('validates dimensions and ids', () => {
    const index = new ExactIndex(4);
    assert.throws(() => index.add([1], [new Float32Array(3)]), /length 3/);
    assert.throws(() => index.add([-1], [new Float32Array(4)]), /non-negative safe integer/);
    assert.throws(() => index.search(new Float32Array(5), 1), /length 5/);
  });
});

describe('HnswIndex (usearch)', () => {
  const vs = vectors(3000, 3);
  const ids = vs.map((_, i) => i);
  // Queries resemble stored passages, as real questions resemble their answers.
  const noise = vectors(50, 1234);
  const queries = noise.map((n, i) => normalizeInPlace(vs[i * 37]!.map((x, j) => x + 0.7 * n[j]!)));
  const built = HnswIndex.build(DIM, 7, Float64Array.from(ids), flat(vs));

  it('finds at least 95% of the exact top-10', () => {
    let found = 0;
    for (const q of queries) {
      const truth = new Set(bruteForce(ids, vs, q, 10).map((h) => h.id));
      found += built.search(q, 10).filter((h) => truth.has(h.id)).length;
    }
    assert.ok(found / (queries.length * 10) >= 0.95, `recall ${found / (queries.length * 10)}`);
  });

  it('returns k matches under selective and broad filters', () => {
    for (const modulo of [40, 2]) {
      const filter = (id: number) => id % modulo === 0;
      for (const q of queries.slice(0, 10)) {
        const got = built.search(q, 10, filter);
        assert.equal(got.length, 10, `modulo ${modulo}`);
        assert.ok(got.every((h) => filter(h.id)));
        const truth = new Set(bruteForce(ids, vs, q, 10, filter).map((h) => h.id));
        assert.ok(got.filter((h) => truth.has(h.id)).length >= 8, `modulo ${modulo}`);
      }
    }
    const few = new Set([5, 17, 2999]);
    assert.deepEqual(built.search(queries[0]!, 10, (id) => few.has(id)).map((h) => h.id).sort((a, b) => a - b), [5, 17, 2999]);
    assert.deepEqual(built.search(queries[0]!, 10, () => false), []);
  });

  it('supports upsert and delete, and round-trips through bytes', () => {
    const index = HnswIndex.create(DIM, 1);
    index.add(ids.slice(0, 500), vs.slice(0, 500));
    const moved = vectors(1, 555)[0]!;
    index.add([3], [moved]);
    assert.equal(index.size, 500);
    assert.equal(index.search(moved, 1)[0]!.id, 3);
    assert.equal(index.remove([3, 4, 10_000]), 2);
    assert.equal(index.size, 498);
    assert.ok(!index.search(moved, 20).some((h) => h.id === 3 || h.id === 4));
    index.generation = 9;
    const loaded = loadVectorIndex(index.serialize());
    assert.equal(loaded.kind, 'hnsw');
    assert.equal(loaded.generation, 9);
    assert.equal(loaded.size, 498);
    for (const q of queries.slice(0, 10)) assert.deepEqual(loaded.search(q, 10), index.search(q, 10));
  });

  it('rejects a graph section that does not match its vectors', () => {
    const small = HnswIndex.build(DIM, 1, Float64Array.from([1, 2]), flat(vs.slice(0, 2)));
    const other = HnswIndex.build(DIM, 1, Float64Array.from([1, 2, 3]), flat(vs.slice(0, 3)));
    const otherGraph = other.serialize().subarray(40 + 3 * 8 + 3 * DIM * 4);
    const forged = encodeIndex('hnsw', DIM, 1, Float64Array.from([1, 2]), flat(vs.slice(0, 2)), otherGraph);
    assert.throws(() => HnswIndex.load(forged), isCorrupt(/graph holds 3 vectors, store 2/));
    const garbage = encodeIndex('hnsw', DIM, 1, Float64Array.from([1, 2]), flat(vs.slice(0, 2)), new Uint8Array(16).fill(7));
    assert.throws(() => HnswIndex.load(garbage), isCorrupt(/graph/));
    const graphless = new Uint8Array(8 + 2 * DIM * 4 + 64);
    new DataView(graphless.buffer).setUint32(0, 2, true);
    new DataView(graphless.buffer).setUint32(4, DIM * 4, true);
    const noMagic = encodeIndex('hnsw', DIM, 1, Float64Array.from([1, 2]), flat(vs.slice(0, 2)), graphless);
    assert.throws(() => HnswIndex.load(noMagic), isCorrupt(/no usearch header/));
    assert.equal(small.size, 2);
  });
});

describe('index factory', () => {
  it('chooses exact below the threshold and HNSW above', () => {
    assert.equal(chooseIndexKind(10, 100), 'exact');
    assert.equal(chooseIndexKind(100, 100), 'hnsw');
    const a: VectorIndex = createVectorIndex({ dimension: 8, expectedSize: 10, hnswThreshold: 100 });
    const b: VectorIndex = createVectorIndex({ dimension: 8, expectedSize: 1000, hnswThreshold: 100 });
    assert.deepEqual([a.kind, b.kind], ['exact', 'hnsw']);
    assert.equal(createVectorIndex({ dimension: 8, kind: 'hnsw' }).kind, 'hnsw');
  });
});
