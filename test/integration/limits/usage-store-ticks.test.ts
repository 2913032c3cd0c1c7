/**
 * The buffered usage store writes, at each timer tick, only the counters that
 * need it (near their limit, or not written for a while); an explicit flush
 * writes everything. Real database (PGlite or PostgreSQL), real timer.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPostgresQuotaStore } from '../../../src/limits/postgres-quota-store.js';
import { startTestPlatform, type TestPlatform } from '../../support/test-platform.js';

let t: TestPlatform;
before(async () => {
  t = await startTestPlatform();
});
after(() => t.close());

const DAY = 'day:2026-01-15';
const stored = async () => {
  const res = await t.platform.db.withSystem((tx) =>
    tx.query<{ tenant_id: string; used: string | number }>(`select tenant_id, used from tenant_usage where window_key = $1 order by tenant_id`, [DAY]),
  );
  return Object.fromEntries(res.rows.map((r) => [r.tenant_id, Number(r.used)]));
};

/** The test platform's database, noting the time of each tenant transaction (each is one tenant's write). */
function timedDb(calls: number[]): TestPlatform['platform']['db'] {
  const db = t.platform.db;
  return {
    kind: db.kind,
    withTenant: (tenantId, fn) => {
      calls.push(performance.now());
      return db.withTenant(tenantId, fn);
    },
    withSystem: (fn) => db.withSystem(fn),
    ping: () => db.ping(),
    maintain: () => db.maintain(),
    close: async () => {},
  };
}

test('a tick writes the counters near their limit and leaves the others buffered until they are stale or flushed', async () => {
  const near = await t.createTenant('ticks-near');
  const far = await t.createTenant('ticks-far');
  const stale = await t.createTenant('ticks-stale');
  const quick = createPostgresQuotaStore({ db: t.platform.db, flushIntervalMs: 20, staleTicks: 100_000 });
  const slow = createPostgresQuotaStore({ db: t.platform.db, flushIntervalMs: 20, staleTicks: 2 });
  try {
    assert.deepEqual(await quick.add(near.id, 'predictions', DAY, 95, 100), { applied: true, used: 95 });
    assert.deepEqual(await quick.add(far.id, 'predictions', DAY, 5, 1_000_000), { applied: true, used: 5 });
    assert.deepEqual(await slow.add(stale.id, 'predictions', DAY, 7, 1_000_000), { applied: true, used: 7 });
    await sleep(200); // about 10 ticks
    assert.deepEqual(await stored(), { [near.id]: 95, [stale.id]: 7 }, 'near its limit: written at a tick; far from it: still buffered, unless stale');
    // The buffered count still decides, at once.
    assert.deepEqual(quick.addNow(far.id, 'predictions', DAY, 1, 1_000_000), { applied: true, used: 6 });
    assert.deepEqual(quick.addNow(near.id, 'predictions', DAY, 6, 100), { applied: false, used: 95 });
    await quick.flush();
    assert.deepEqual(await stored(), { [near.id]: 95, [far.id]: 6, [stale.id]: 7 });
  } finally {
    await quick.close();
    await slow.close();
  }
});

test('increments being written still count: a request made during a flush cannot pass the limit', async () => {
  const tenant = await t.createTenant('ticks-in-flight');
  // The real database, with a door held shut in front of the flush's transaction.
  let door: Promise<void> | undefined;
  let open = () => {};
  const db = t.platform.db;
  const held: typeof db = {
    kind: db.kind,
    withTenant: async (tenantId, fn) => {
      if (door) await door;
      return db.withTenant(tenantId, fn);
    },
    withSystem: (fn) => db.withSystem(fn),
    ping: () => db.ping(),
    maintain: () => db.maintain(),
    close: async () => {},
  };
  const store = createPostgresQuotaStore({ db: held, flushIntervalMs: 3_600_000 });
  try {
    assert.deepEqual(await store.add(tenant.id, 'predictions', DAY, 3, 5), { applied: true, used: 3 });
    door = new Promise<void>((resolve) => {
      open = resolve;
    });
    const flushing = store.flush();
    await sleep(10); // the flush has taken the 3 and waits at the door
    assert.deepEqual(store.addNow(tenant.id, 'predictions', DAY, 3, 5), { applied: false, used: 3 });
    assert.deepEqual(store.addNow(tenant.id, 'predictions', DAY, 2, 5), { applied: true, used: 5 });
    assert.deepEqual(store.addNow(tenant.id, 'predictions', DAY, 1, 5), { applied: false, used: 5 });
    door = undefined;
    open();
    await flushing;
    assert.deepEqual(store.addNow(tenant.id, 'predictions', DAY, 1, 5), { applied: false, used: 5 });
    await store.flush();
    assert.equal((await stored())[tenant.id], 5);
  } finally {
    open();
    await store.close();
  }
});

test('tenants first used together come due spread over the stale window, not in a wave', async () => {
  const TENANTS = 80;
  const STALE_TICKS = 10;
  const TICK_MS = 300;
  const ids: string[] = [];
  for (let i = 0; i < TENANTS; i++) ids.push((await t.createTenant(`wave-${i}`)).id);
  const calls: number[] = [];
  const timed = timedDb(calls);
  const store = createPostgresQuotaStore({ db: timed, flushIntervalMs: TICK_MS, staleTicks: STALE_TICKS });
  const createdAt = performance.now();
  try {
    // Each tenant's three counters, as a predict request makes them.
    for (const id of ids) {
      await store.add(id, 'predictions', DAY, 1, 1e9);
      await store.add(id, 'predictions', 'month:2026-01', 1, 1e9);
      store.count(id, 'requests', DAY, 1);
    }
    const setupEnded = performance.now();
    await sleep((STALE_TICKS + 2) * TICK_MS);
    assert.deepEqual(Object.keys(await stored()).filter((id) => ids.includes(id)).sort(), [...ids].sort(), 'every tenant written within the window');
    // Ticks come every TICK_MS from the store's creation; a tick's writes fall within its own interval.
    const writes = calls.filter((at) => at > setupEnded);
    const byTick = new Map<number, number[]>();
    for (const at of writes) {
      const tick = Math.floor((at - createdAt) / TICK_MS);
      byTick.set(tick, [...(byTick.get(tick) ?? []), at]);
    }
    const perTick = [...byTick.values()].map((writes) => writes.length);
    // Spread evenly that is 8 a tick; a phase per counter in half the window put about 40 in one tick.
    assert.ok(Math.max(...perTick) <= 24, `tenants written per tick: ${perTick.join(', ')}`);
    // Within a tick the writes are paced over 80% of the interval, not run back to back. Timers drift and a tick
    // can straddle the buckets above, so this reads the typical gap between one write and the next: paced, it is
    // about the tick's spacing; back to back it would be the 1.5–3 ms of one write.
    const gaps = writes.slice(1).map((at, i) => at - writes[i]!).sort((a, b) => a - b);
    const medianGap = gaps[Math.floor(gaps.length / 2)]!;
    const spacing = (0.8 * TICK_MS) / (writes.length / perTick.length);
    assert.ok(medianGap >= 0.5 * spacing, `median gap between writes ${medianGap.toFixed(1)} ms; paced, about ${spacing.toFixed(1)} ms`);
  } finally {
    await store.close();
  }
});

test('a flush of everything asked for during a paced tick does not wait out the pacing', async () => {
  const TICK_MS = 2_000;
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push((await t.createTenant(`paced-${i}`)).id);
  const calls: number[] = [];
  const timed = timedDb(calls);
  // Every counter is due at every tick: a tick paces 20 writes over 1.6 s.
  const store = createPostgresQuotaStore({ db: timed, flushIntervalMs: TICK_MS, staleTicks: 1 });
  try {
    for (const id of ids) store.count(id, 'requests', DAY, 1);
    const before = calls.length;
    while (calls.length < before + 2) await sleep(5); // the first tick is under way
    for (const id of ids) store.count(id, 'requests', DAY, 1);
    const asked = performance.now();
    await store.flush();
    const took = performance.now() - asked;
    assert.ok(took < 1_000, `the flush took ${took.toFixed(0)} ms behind a tick paced over 1,600 ms`);
    const written = await stored();
    for (const id of ids) assert.equal(written[id], 2, 'both counts of every tenant are stored');
  } finally {
    await store.close();
  }
});
