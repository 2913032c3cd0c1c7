import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PolicyName } from '../../../src/serving/cache-policy.js';
import { ModelCache, type ModelKey, type ModelLoader } from '../../../src/serving/model-cache.js';
import type { ModelCacheEvent } from '../../../src/serving/model-cache-stats.js';

const key = (tenantId: string, model = 'm', version = '1'): ModelKey => ({ tenantId, model, version });

interface Harness {
  cache: ModelCache<string>;
  loads: string[];
  events: ModelCacheEvent[];
}

function harness(options: {
  budgetBytes: number;
  policy?: PolicyName;
  size?: (k: ModelKey) => number;
  tenantMaxShare?: number;
  tenantMaxBytes?: number;
  load?: ModelLoader<string>;
}): Harness {
  const loads: string[] = [];
  const events: ModelCacheEvent[] = [];
  const cache = new ModelCache<string>({
    budgetBytes: options.budgetBytes,
    policy: options.policy ?? 'gdsf',
    ...(options.tenantMaxShare === undefined ? {} : { tenantMaxShare: options.tenantMaxShare }),
    ...(options.tenantMaxBytes === undefined ? {} : { tenantMaxBytes: options.tenantMaxBytes }),
    onEvent: (e) => events.push(e),
    load:
      options.load ??
      (async (k) => {
        loads.push(`${k.tenantId}/${k.model}/${k.version}`);
        // A fixed reload cost keeps the policy's choices independent of timer jitter.
        return { value: `${k.tenantId}/${k.model}/${k.version}`, sizeBytes: options.size?.(k) ?? 100, loadCostMs: 1 };
      }),
  });
  return { cache, loads, events };
}

const touch = (cache: ModelCache<string>, k: ModelKey) => cache.use(k, (v) => v);

for (const policy of ['lru', 'gdsf'] as const) {
  describe(`model cache (${policy}): shared guarantees`, () => {
    test('resident bytes never exceed the budget; the loaded value is returned', async () => {
      const { cache } = harness({ budgetBytes: 300, policy });
      for (let i = 0; i < 10; i++) assert.equal(await touch(cache, key(`t${i}`)), `t${i}/m/1`);
      const snap = cache.snapshot();
      assert.equal(snap.residentBytes, 300);
      assert.equal(snap.entries.length, 3);
      assert.equal(cache.stats().totals.evictions, 7);
      assert.equal(snap.transientBytes, 0);
    });

    test('100 concurrent first requests share exactly one load', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let calls = 0;
      const { cache } = harness({
        budgetBytes: 1000,
        policy,
        load: async (k) => {
          calls++;
          await gate;
          return { value: `v-${k.tenantId}`, sizeBytes: 10 };
        },
      });
      const results = Array.from({ length: 100 }, () => touch(cache, key('a')));
      release();
      assert.deepEqual(new Set(await Promise.all(results)), new Set(['v-a']));
      assert.equal(calls, 1);
      const stats = cache.stats().tenants.a;
      assert.equal(stats?.loads, 1);
      assert.equal(stats?.misses, 100);
      assert.equal(cache.snapshot().entries[0]?.pins, 0, 'every waiter released its pin');
    });

    test('a failing load rejects every waiter, is not cached, and the next request retries', async () => {
      let calls = 0;
      const { cache } = harness({
        budgetBytes: 1000,
        policy,
        load: async () => {
          calls++;
          if (calls === 1) {
            await new Promise((r) => setTimeout(r, 5));
            throw new Error('artifact missing');
          }
          return { value: 'ok', sizeBytes: 10 };
        },
      });
      const waiters = await Promise.allSettled(Array.from({ length: 5 }, () => touch(cache, key('a'))));
      assert.equal(calls, 1);
      for (const w of waiters) {
        assert.equal(w.status, 'rejected');
        assert.match(String((w as PromiseRejectedResult).reason), /artifact missing/);
      }
      assert.equal(cache.has(key('a')), false);
      assert.equal(cache.stats().tenants.a?.loadFailures, 1);
      assert.equal(await touch(cache, key('a')), 'ok');
      assert.equal(calls, 2);
    });

    test('a pinned entry is never evicted; a load that cannot fit serves its request and is not kept', async () => {
      const { cache, loads } = harness({ budgetBytes: 100, policy });
      const a = await cache.acquire(key('a'));
      const b = await cache.acquire(key('b'));
      assert.equal(a.value, 'a/m/1');
      assert.equal(b.value, 'b/m/1');
      assert.equal(cache.has(key('a')), true);
      assert.equal(cache.has(key('b')), false);
      assert.equal(cache.snapshot().transientBytes, 100, 'b is held only by its request');
      b.release();
      b.release(); // idempotent
      assert.equal(cache.snapshot().transientBytes, 0);
      a.release();
      await touch(cache, key('b'));
      assert.equal(cache.has(key('b')), true);
      assert.equal(cache.has(key('a')), false);
      assert.deepEqual(loads, ['a/m/1', 'b/m/1', 'b/m/1']);
    });

    test('a model larger than the whole budget is served but never resident', async () => {
      const { cache } = harness({ budgetBytes: 100, policy, size: () => 500 });
      assert.equal(await touch(cache, key('big')), 'big/m/1');
      assert.equal(cache.snapshot().residentBytes, 0);
      assert.equal(cache.stats().tenants.big?.notAdmitted, 1);
    });

    test('per-tenant share: one tenant with many models cannot flush the others', async () => {
      const { cache } = harness({ budgetBytes: 1000, policy, tenantMaxShare: 0.3 });
      for (let i = 0; i < 5; i++) await touch(cache, key(`quiet${i}`));
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 20; i++) await touch(cache, key('noisy', `model${i}`));
      }
      const stats = cache.stats();
      assert.ok((stats.tenants.noisy?.residentBytes ?? 0) <= 300);
      for (let i = 0; i < 5; i++) assert.equal(cache.has(key(`quiet${i}`)), true, `quiet${i} was flushed`);
      assert.ok((stats.tenants.noisy?.evictions ?? 0) > 0);
      assert.equal(stats.tenants.quiet0?.evictions, 0);
    });

    test('per-tenant byte cap', async () => {
      const { cache } = harness({ budgetBytes: 1000, policy, tenantMaxBytes: 200 });
      for (let i = 0; i < 4; i++) await touch(cache, key('a', `m${i}`));
      assert.equal(cache.stats().tenants.a?.residentBytes, 200);
    });
  });
}

describe('model cache: policy behaviour', () => {
  async function hotSurvivesSweep(policy: PolicyName): Promise<boolean> {
    const { cache } = harness({ budgetBytes: 300, policy });
    for (let i = 0; i < 20; i++) {
      await touch(cache, key('hot'));
      await touch(cache, key('warm'));
    }
    for (let i = 0; i < 30; i++) await touch(cache, key(`cold${i}`)); // one-off requests from many tenants
    return cache.has(key('hot')) && cache.has(key('warm'));
  }

  test('LRU evicts the least recently used entry', async () => {
    const { cache } = harness({ budgetBytes: 300, policy: 'lru' });
    for (const t of ['a', 'b', 'c', 'a', 'd']) await touch(cache, key(t));
    assert.deepEqual(
      cache.snapshot().entries.map((e) => e.tenantId).sort(),
      ['a', 'c', 'd'],
    );
  });

  test('a sweep of one-off tenants flushes the hot models under LRU but not under GDSF', async () => {
    assert.equal(await hotSurvivesSweep('lru'), false);
    assert.equal(await hotSurvivesSweep('gdsf'), true);
  });

  test('GDSF prefers keeping expensive-to-reload models over cheap ones of the same size and frequency', async () => {
    const cache = new ModelCache<string>({
      budgetBytes: 200,
      load: async (k) => ({ value: k.tenantId, sizeBytes: 100, loadCostMs: k.tenantId === 'slow' ? 50 : 1 }),
    });
    await touch(cache, key('slow'));
    await touch(cache, key('fast'));
    await touch(cache, key('other'));
    assert.equal(cache.has(key('slow')), true);
    assert.equal(cache.has(key('fast')), false);
  });

  test('GDSF admits a model that keeps being requested, even if it was rejected at first', async () => {
    const { cache } = harness({ budgetBytes: 100, policy: 'gdsf' });
    for (let i = 0; i < 5; i++) await touch(cache, key('incumbent'));
    let admittedAfter = -1;
    for (let i = 1; i <= 20 && admittedAfter < 0; i++) {
      await touch(cache, key('rising'));
      if (cache.has(key('rising'))) admittedAfter = i;
    }
    assert.ok(admittedAfter > 1, 'not admitted on its first request');
    assert.ok(admittedAfter > 0 && admittedAfter <= 10, `admitted after ${admittedAfter}`);
  });
});

describe('model cache: invalidation', () => {
  test('invalidate, invalidatePrefix and invalidateTenant drop exactly what they name', async () => {
    const { cache } = harness({ budgetBytes: 10_000 });
    for (const k of [key('a', 'x', '1'), key('a', 'x', '2'), key('a', 'y', '1'), key('b', 'x', '1')]) await touch(cache, k);
    assert.equal(cache.invalidate(key('a', 'x', '1')), true);
    assert.equal(cache.invalidate(key('a', 'x', '1')), false);
    assert.equal(cache.invalidatePrefix({ tenantId: 'a', model: 'x' }), 1);
    assert.equal(cache.has(key('a', 'y', '1')), true);
    assert.equal(cache.invalidateTenant('a'), 1);
    assert.deepEqual(cache.snapshot().entries.map((e) => e.tenantId), ['b']);
    assert.equal(cache.stats().tenants.a?.residentBytes, 0);
  });

  test('a model invalidated while in use stays usable by its request, then its bytes are released', async () => {
    const { cache } = harness({ budgetBytes: 1000 });
    const lease = await cache.acquire(key('a'));
    cache.invalidateTenant('a');
    assert.equal(lease.value, 'a/m/1');
    assert.equal(cache.snapshot().residentBytes, 0);
    assert.equal(cache.snapshot().transientBytes, 100);
    lease.release();
    assert.equal(cache.snapshot().transientBytes, 0);
  });

  test('a load in flight when invalidated serves its waiters but is not kept; the next request reloads', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    const cache = new ModelCache<number>({
      budgetBytes: 1000,
      load: async () => {
        const n = ++calls;
        if (n === 1) await gate;
        return { value: n, sizeBytes: 10 };
      },
    });
    const first = cache.use(key('a'), (v) => v);
    await Promise.resolve();
    assert.equal(cache.invalidateTenant('a'), 1);
    const second = cache.use(key('a'), (v) => v);
    release();
    assert.equal(await first, 1);
    assert.equal(await second, 2);
    assert.equal(cache.has(key('a')), true);
    assert.equal(await cache.use(key('a'), (v) => v), 2);
    assert.equal(calls, 2);
  });
});

describe('model cache: observability and warm-up', () => {
  test('events, per-tenant stats and snapshot describe what happened', async () => {
    let clock = Date.parse('2025-01-01T00:00:00Z');
    const events: ModelCacheEvent[] = [];
    const cache = new ModelCache<string>({
      budgetBytes: 150,
      policy: 'lru', // under gdsf, b (asked once) would not displace a (asked twice)
      now: () => clock,
      onEvent: (e) => events.push(e),
      load: async (k) => ({ value: k.tenantId, sizeBytes: 100 }),
    });
    await touch(cache, key('a'));
    clock += 1000;
    await touch(cache, key('a'));
    await touch(cache, key('b'));
    assert.deepEqual(
      events.map((e) => e.type),
      ['miss', 'load', 'hit', 'miss', 'evict', 'load'],
    );
    const evict = events.find((e) => e.type === 'evict');
    assert.equal(evict?.type === 'evict' && evict.reason, 'budget');
    const stats = cache.stats();
    assert.deepEqual(
      { hits: stats.tenants.a?.hits, misses: stats.tenants.a?.misses, loads: stats.tenants.a?.loads, evictions: stats.tenants.a?.evictions },
      { hits: 1, misses: 1, loads: 1, evictions: 1 },
    );
    assert.equal(stats.totals.loads, 2);
    const snap = cache.snapshot();
    assert.equal(snap.policy, 'lru');
    assert.equal(snap.budgetBytes, 150);
    assert.equal(snap.entries.length, 1);
    assert.deepEqual(
      { ...snap.entries[0], loadMs: 0 },
      { tenantId: 'b', model: 'm', version: '1', sizeBytes: 100, hits: 0, pins: 0, loadMs: 0, loadedAt: '2025-01-01T00:00:01.000Z', lastUsedAt: '2025-01-01T00:00:01.000Z' },
    );
  });

  test('warm loads the list and reports failures without throwing', async () => {
    const cache = new ModelCache<string>({
      budgetBytes: 10_000,
      load: async (k) => {
        if (k.model === 'broken') throw new Error('corrupt');
        return { value: k.model, sizeBytes: 10 };
      },
    });
    const result = await cache.warm([key('a', 'x'), key('a', 'broken'), key('b', 'y')], 2);
    assert.equal(result.loaded, 2);
    assert.equal(result.failed.length, 1);
    assert.equal(result.failed[0]?.key.model, 'broken');
    assert.equal(cache.has(key('a', 'x')) && cache.has(key('b', 'y')), true);
  });

  test('invalid options are rejected', () => {
    const load = async () => ({ value: 1, sizeBytes: 1 });
    assert.throws(() => new ModelCache({ budgetBytes: Number.NaN, load }), /budget/);
    assert.throws(() => new ModelCache({ budgetBytes: 10, tenantMaxShare: 1.5, load }), /tenantMaxShare/);
  });
});

describe('model cache: dropped values', () => {
  const cacheWithDrops = (budgetBytes: number) => {
    const dropped: string[] = [];
    const cache = new ModelCache<string>({
      budgetBytes,
      policy: 'lru',
      load: async (k) => ({ value: k.tenantId, sizeBytes: 100, loadCostMs: 1 }),
      onDrop: (value) => dropped.push(value),
    });
    return { cache, dropped };
  };

  test('an evicted entry nobody holds is dropped once, at eviction', async () => {
    const { cache, dropped } = cacheWithDrops(100);
    await touch(cache, key('a'));
    assert.deepEqual(dropped, []);
    await touch(cache, key('b'));
    assert.deepEqual(dropped, ['a']);
    cache.clear();
    assert.deepEqual(dropped, ['a', 'b']);
  });

  test('an entry evicted or invalidated while leased is dropped when its last lease is released', async () => {
    const { cache, dropped } = cacheWithDrops(200);
    const first = await cache.acquire(key('a'));
    const second = await cache.acquire(key('a'));
    cache.invalidate(key('a'));
    assert.deepEqual(dropped, [], 'still in use');
    first.release();
    first.release(); // idempotent: one release per lease
    assert.deepEqual(dropped, []);
    second.release();
    assert.deepEqual(dropped, ['a']);
  });

  test('a value that was never admitted is dropped when its requests are done', async () => {
    const { cache, dropped } = cacheWithDrops(100);
    const held = await cache.acquire(key('a')); // pinned: b cannot displace it
    const b = await cache.acquire(key('b'));
    assert.equal(cache.has(key('b')), false);
    assert.deepEqual(dropped, []);
    b.release();
    assert.deepEqual(dropped, ['b']);
    held.release();
    assert.deepEqual(dropped, ['b'], 'a stays resident');
  });
});

describe('model cache: synchronous loads (acquireNow)', () => {
  const now = (k: ModelKey) => ({ value: `now-${k.tenantId}`, sizeBytes: 100, loadCostMs: 1 });

  test('a miss loaded now is pinned, admitted and counted as one miss and one load; the next request hits', () => {
    const { cache, loads, events } = harness({ budgetBytes: 1000 });
    const lease = cache.acquireNow(key('a'), now);
    assert.equal(lease?.value, 'now-a');
    assert.equal(cache.snapshot().entries[0]?.pins, 1, 'held by its lease');
    lease.release();
    assert.equal(cache.snapshot().entries[0]?.pins, 0);
    assert.deepEqual(loads, [], 'the asynchronous loader was not called');
    assert.deepEqual(
      events.map((e) => e.type),
      ['miss', 'load'],
    );
    const again = cache.acquireNow(key('a'), () => assert.fail('a resident model is not loaded again'));
    assert.equal(again?.value, 'now-a');
    again.release();
    const stats = cache.stats().tenants.a;
    assert.deepEqual([stats?.hits, stats?.misses, stats?.loads], [1, 1, 1]);
  });

  test('a model it cannot load now is left to acquire, with nothing counted', async () => {
    const { cache, loads, events } = harness({ budgetBytes: 1000 });
    assert.equal(
      cache.acquireNow(key('a'), () => undefined),
      undefined,
    );
    assert.deepEqual(events, []);
    assert.equal(cache.stats().totals.misses, 0);
    assert.equal(await touch(cache, key('a')), 'a/m/1');
    assert.deepEqual(loads, ['a/m/1']);
  });

  test('while a load of the key is in flight it answers undefined, so requests join that one load', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { cache } = harness({
      budgetBytes: 1000,
      load: async (k) => {
        await gate;
        return { value: `async-${k.tenantId}`, sizeBytes: 100 };
      },
    });
    const waiting = touch(cache, key('a'));
    assert.equal(
      cache.acquireNow(key('a'), () => assert.fail('no second load while one is in flight')),
      undefined,
    );
    release();
    assert.equal(await waiting, 'async-a');
    assert.equal(cache.stats().tenants.a?.loads, 1);
  });

  test('it evicts under the budget like any load, and a model too large to keep is served once and dropped', () => {
    const dropped: string[] = [];
    const cache = new ModelCache<string>({
      budgetBytes: 250,
      policy: 'lru',
      load: async () => assert.fail('not used'),
      onDrop: (v) => dropped.push(v),
    });
    for (const t of ['a', 'b', 'c']) cache.acquireNow(key(t), now)?.release();
    assert.deepEqual(
      cache.snapshot().entries.map((e) => e.tenantId).sort(),
      ['b', 'c'],
    );
    assert.deepEqual(dropped, ['now-a']);
    const big = cache.acquireNow(key('d'), (k) => ({ value: `big-${k.tenantId}`, sizeBytes: 1000 }));
    assert.equal(big?.value, 'big-d');
    assert.equal(cache.snapshot().transientBytes, 1000);
    big.release();
    assert.equal(cache.snapshot().transientBytes, 0);
    assert.deepEqual(dropped, ['now-a', 'big-d']);
    assert.equal(cache.stats().totals.notAdmitted, 1);
  });
});
