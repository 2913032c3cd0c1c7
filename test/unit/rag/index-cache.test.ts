import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExactIndex } from '../../../src/rag/index/exact-index.js';
import { type CachedIndex, IndexCache, indexCacheKey } from '../../../src/rag/service/index-cache.js';
import { parseInvalidationEvent } from '../../../src/serving/invalidation-bus.js';

function entry(tenantId: string, namespaceId: string, vectors: number): CachedIndex {
  const index = new ExactIndex(4, 0, 1);
  index.add(Array.from({ length: vectors }, (_, i) => i), Array.from({ length: vectors }, () => new Float32Array([1, 0, 0, 0])));
  return { key: indexCacheKey(tenantId, namespaceId), tenantId, namespaceId, index, dirty: false, leases: 0 };
}

test('keys lead with the tenant', () => {
  assert.equal(indexCacheKey('t1', 'ns_a'), 't1/ns_a');
});

test('evicts least recently used entries past the byte budget, never the one just added', () => {
  const evicted: string[] = [];
  const a = entry('t1', 'a', 10);
  const budget = a.index.sizeBytes * 2 + 1;
  const cache = new IndexCache(budget, (e) => evicted.push(e.key));
  cache.set(a);
  cache.set(entry('t1', 'b', 10));
  cache.get('t1/a'); // a is now more recent than b
  cache.set(entry('t2', 'c', 10));
  assert.deepEqual(evicted, ['t1/b']);
  assert.ok(cache.residentBytes <= budget);
  const huge = entry('t3', 'd', 1000);
  cache.set(huge);
  assert.equal(cache.peek('t3/d'), huge, 'an index larger than the budget still serves');
  assert.equal(cache.size, 1);
});

test('growth in place is accounted and can evict others', () => {
  const evicted: string[] = [];
  const a = entry('t1', 'a', 10);
  const b = entry('t1', 'b', 10);
  const cache = new IndexCache(a.index.sizeBytes * 3, (e) => evicted.push(e.key));
  cache.set(a);
  cache.set(b);
  b.index.add(Array.from({ length: 200 }, (_, i) => 100 + i), Array.from({ length: 200 }, () => new Float32Array([0, 1, 0, 0])));
  cache.resized(b);
  assert.deepEqual(evicted, ['t1/a']);
  assert.equal(cache.residentBytes, b.index.sizeBytes);
});

test('deleteWhere drops one tenant only, without eviction callbacks', () => {
  const evicted: string[] = [];
  const cache = new IndexCache(1e9, (e) => evicted.push(e.key));
  for (const [t, n] of [['t1', 'a'], ['t1', 'b'], ['t2', 'a']] as const) cache.set(entry(t, n, 3));
  assert.equal(cache.deleteWhere((e) => e.tenantId === 't1').length, 2);
  assert.deepEqual(cache.entries().map((e) => e.key), ['t2/a']);
  assert.deepEqual(evicted, []);
});

test('index-changed events parse, and malformed ones are rejected', () => {
  assert.deepEqual(parseInvalidationEvent({ type: 'index-changed', tenantId: 't', namespace: 'ns_1', generation: 3 }), {
    type: 'index-changed',
    tenantId: 't',
    namespace: 'ns_1',
    generation: 3,
  });
  for (const bad of [
    { type: 'index-changed', tenantId: 't', namespace: 'ns_1' },
    { type: 'index-changed', tenantId: 't', namespace: '', generation: 1 },
    { type: 'index-changed', tenantId: 't', namespace: 'x', generation: -1 },
    { type: 'index-changed', tenantId: 't', namespace: 'x', generation: 1.5 },
    { type: 'index-changed', namespace: 'x', generation: 1 },
  ]) {
    assert.equal(parseInvalidationEvent(bad), null, JSON.stringify(bad));
  }
});
