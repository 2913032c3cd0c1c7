import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyInvalidation, connectModelCacheToBus } from '../../../src/serving/cache-invalidation.js';
import { createInvalidationBus, parseInvalidationEvent } from '../../../src/serving/invalidation-bus.js';
import { ModelCache, type ModelKey } from '../../../src/serving/model-cache.js';

const k = (tenantId: string, model: string, version: string): ModelKey => ({ tenantId, model, version });

describe('invalidation events', () => {
  test('parseInvalidationEvent accepts each event type and rejects malformed ones', () => {
    assert.deepEqual(parseInvalidationEvent({ type: 'model-version', tenantId: 't', model: 'm' }), { type: 'model-version', tenantId: 't', model: 'm' });
    assert.deepEqual(parseInvalidationEvent({ type: 'model-version', tenantId: 't', model: 'm', version: '2', extra: 1 }), {
      type: 'model-version',
      tenantId: 't',
      model: 'm',
      version: '2',
    });
    assert.deepEqual(parseInvalidationEvent({ type: 'alias-changed', tenantId: 't', model: 'm', alias: 'production' }), {
      type: 'alias-changed',
      tenantId: 't',
      model: 'm',
      alias: 'production',
    });
    assert.deepEqual(parseInvalidationEvent({ type: 'key-revoked', tenantId: 't', keyId: 'k' }), { type: 'key-revoked', tenantId: 't', keyId: 'k' });
    assert.deepEqual(parseInvalidationEvent({ type: 'tenant-purged', tenantId: 't' }), { type: 'tenant-purged', tenantId: 't' });
    for (const bad of [null, 'x', {}, { type: 'tenant-purged' }, { type: 'tenant-purged', tenantId: '' }, { type: 'model-version', tenantId: 't' }, { type: 'key-revoked', tenantId: 't' }, { type: 'resync', tenantId: 't' }, { type: 'nope', tenantId: 't' }]) {
      assert.equal(parseInvalidationEvent(bad), null, JSON.stringify(bad));
    }
  });

  test('events drop the right cache entries: a version, a whole model, a tenant; others leave the cache alone', async () => {
    const cache = new ModelCache<string>({ budgetBytes: 10_000, load: async (key) => ({ value: key.model, sizeBytes: 1 }) });
    for (const key of [k('a', 'x', '1'), k('a', 'x', '2'), k('a', 'y', '1'), k('b', 'x', '1')]) await cache.use(key, (v) => v);
    assert.equal(applyInvalidation(cache as ModelCache<unknown>, { type: 'model-version', tenantId: 'a', model: 'x', version: '1' }), 1);
    assert.equal(applyInvalidation(cache as ModelCache<unknown>, { type: 'alias-changed', tenantId: 'a', model: 'y', alias: 'p' }), 0);
    assert.equal(applyInvalidation(cache as ModelCache<unknown>, { type: 'key-revoked', tenantId: 'a', keyId: 'k' }), 0);
    assert.equal(applyInvalidation(cache as ModelCache<unknown>, { type: 'resync' }), 0);
    assert.equal(applyInvalidation(cache as ModelCache<unknown>, { type: 'model-version', tenantId: 'a', model: 'x' }), 1);
    assert.equal(applyInvalidation(cache as ModelCache<unknown>, { type: 'tenant-purged', tenantId: 'a' }), 1);
    assert.deepEqual(cache.snapshot().entries.map((e) => `${e.tenantId}/${e.model}`), ['b/x']);
  });

  test('the in-process bus delivers to every subscriber, survives a throwing handler, and unsubscribes', async () => {
    const bus = createInvalidationBus({ kind: 'memory' });
    await bus.ready();
    const cache = new ModelCache<string>({ budgetBytes: 100, load: async (key) => ({ value: key.model, sizeBytes: 1 }) });
    await cache.use(k('t', 'm', '1'), (v) => v);
    const seen: unknown[] = [];
    const off = bus.subscribe((e) => seen.push(e));
    bus.subscribe(() => {
      throw new Error('a broken handler must not stop the others');
    });
    const disconnect = connectModelCacheToBus(bus, cache);
    await bus.publish({ type: 'key-revoked', tenantId: 't', keyId: 'k1' });
    off();
    await bus.publish({ type: 'key-revoked', tenantId: 't', keyId: 'k2' });
    assert.deepEqual(seen, [{ type: 'key-revoked', tenantId: 't', keyId: 'k1' }]);
    await bus.publish({ type: 'tenant-purged', tenantId: 't' });
    assert.equal(cache.has(k('t', 'm', '1')), false);
    disconnect();
    await bus.close();
  });
});
