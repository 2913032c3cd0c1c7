import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { connectModelCacheToBus } from '../../../src/serving/cache-invalidation.js';
import {
  createInvalidationBus,
  type InvalidationEvent,
  type ResyncEvent,
} from '../../../src/serving/invalidation-bus.js';
import { ModelCache } from '../../../src/serving/model-cache.js';

const REDIS_URL = process.env.TENANTML_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function nextEvent(bus: { subscribe: (h: (e: InvalidationEvent | ResyncEvent) => void) => () => void }, timeoutMs = 1000) {
  return new Promise<InvalidationEvent | ResyncEvent>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no event within the timeout')), timeoutMs);
    const off = bus.subscribe((e) => {
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

describe('redis invalidation bus', () => {
  test('an event published on one instance reaches the other well under a second, and the publisher locally once', async () => {
    const channelPrefix = `tenantml-test:${randomBytes(6).toString('hex')}:`;
    const a = createInvalidationBus({ kind: 'redis', url: REDIS_URL, channelPrefix });
    const b = createInvalidationBus({ kind: 'redis', url: REDIS_URL, channelPrefix });
    const other = createInvalidationBus({ kind: 'redis', url: REDIS_URL, channelPrefix: `${channelPrefix}other:` });
    try {
      await Promise.all([a.ready(), b.ready(), other.ready()]);
      const seenByA: unknown[] = [];
      const seenByOther: unknown[] = [];
      a.subscribe((e) => seenByA.push(e));
      other.subscribe((e) => seenByOther.push(e));
      const event: InvalidationEvent = { type: 'model-version', tenantId: 't1', model: 'churn', version: '3' };
      const started = performance.now();
      const received = nextEvent(b);
      await a.publish(event);
      assert.deepEqual(await received, event);
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 500, `delivery took ${elapsed.toFixed(1)} ms`);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(seenByA, [event], 'the publisher hears its event once (locally), not its echo');
      assert.deepEqual(seenByOther, [], 'another channel prefix is another deployment');
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });

  test('malformed messages are ignored and reported; a purge on one replica empties the cache on another', async () => {
    const channelPrefix = `tenantml-test:${randomBytes(6).toString('hex')}:`;
    const reported: unknown[] = [];
    const a = createInvalidationBus({ kind: 'redis', url: REDIS_URL, channelPrefix });
    const b = createInvalidationBus({ kind: 'redis', url: REDIS_URL, channelPrefix, onError: (e) => reported.push(e) });
    const raw = new Redis(REDIS_URL);
    const cache = new ModelCache<string>({ budgetBytes: 1000, load: async (k) => ({ value: k.model, sizeBytes: 10 }) });
    try {
      await Promise.all([a.ready(), b.ready()]);
      connectModelCacheToBus(b, cache);
      await cache.use({ tenantId: 'gone', model: 'x', version: '1' }, (v) => v);
      await cache.use({ tenantId: 'stays', model: 'x', version: '1' }, (v) => v);
      await raw.publish(`${channelPrefix}invalidation`, '{not json');
      await raw.publish(`${channelPrefix}invalidation`, JSON.stringify({ origin: 'x', event: { type: 'tenant-purged' } }));
      const received = nextEvent(b);
      await a.publish({ type: 'tenant-purged', tenantId: 'gone' });
      assert.deepEqual(await received, { type: 'tenant-purged', tenantId: 'gone' });
      assert.equal(cache.has({ tenantId: 'gone', model: 'x', version: '1' }), false);
      assert.equal(cache.has({ tenantId: 'stays', model: 'x', version: '1' }), true);
      assert.equal(reported.length, 2);
    } finally {
      raw.disconnect();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
