import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AppError, isAppError } from '../../../src/errors.js';
import { createQuotaGuard } from '../../../src/limits/quota-guard.js';
import { createMemoryQuotaStore } from '../../../src/limits/quota-store.js';
import { quotaWindow, secondsUntilReset } from '../../../src/limits/quota-windows.js';
import { resolveTenantLimits } from '../../../src/limits/tenant-limits.js';

const at = (iso: string) => Date.parse(iso);

describe('quota windows (UTC)', () => {
  it('cuts days at UTC midnight', () => {
    const before = quotaWindow('day', at('2025-03-31T23:59:59.999Z'));
    const after = quotaWindow('day', at('2025-04-01T00:00:00.000Z'));
    assert.equal(before.key, 'day:2025-03-31');
    assert.equal(after.key, 'day:2025-04-01');
    assert.equal(before.resetsAt, after.startsAt);
    assert.equal(new Date(before.resetsAt).toISOString(), '2025-04-01T00:00:00.000Z');
    assert.equal(secondsUntilReset(before, at('2025-03-31T23:59:59.999Z')), 1);
  });

  it('cuts months at the first of the month, across February and the year end', () => {
    const march = quotaWindow('month', at('2025-03-31T23:59:59.999Z'));
    assert.equal(march.key, 'month:2025-03');
    assert.equal(new Date(march.resetsAt).toISOString(), '2025-04-01T00:00:00.000Z');
    assert.equal(quotaWindow('month', at('2025-04-01T00:00:00.000Z')).key, 'month:2025-04');
    const leap = quotaWindow('month', at('2024-02-29T12:00:00Z'));
    assert.equal(new Date(leap.resetsAt).toISOString(), '2024-03-01T00:00:00.000Z');
    const december = quotaWindow('month', at('2025-12-31T23:00:00Z'));
    assert.equal(december.key, 'month:2025-12');
    assert.equal(new Date(december.resetsAt).toISOString(), '2026-01-01T00:00:00.000Z');
    assert.equal(quotaWindow('day', at('2025-12-31T23:00:00Z')).key, 'day:2025-12-31');
  });

  it('ignores the local time zone of the process', () => {
    // 23:30 in UTC-5 is already the next UTC day.
    assert.equal(quotaWindow('day', at('2025-06-30T23:30:00-05:00')).key, 'day:2025-07-01');
  });
});

describe('prediction quota guard', () => {
  function fixture(iso: string, limits = resolveTenantLimits({ dailyPredictions: 100, monthlyPredictions: 250 })) {
    let now = at(iso);
    const store = createMemoryQuotaStore();
    const refusals: string[] = [];
    const guard = createQuotaGuard({
      store,
      clock: () => now,
      hooks: {
        onDecision: (e) => {
          if (!e.allowed) refusals.push(`${e.tenantId}:${e.reason}`);
        },
      },
    });
    return { guard, store, limits, refusals, set: (next: string) => (now = at(next)) };
  }

  it('counts rows in the day and the month', async () => {
    const { guard, limits } = fixture('2025-03-10T10:00:00Z');
    const usage = await guard.consumePredictions('t1', limits, 60);
    assert.deepEqual(
      usage.map((u) => [u.window, u.used, u.remaining, u.resetAt]),
      [
        ['day:2025-03-10', 60, 40, '2025-03-11T00:00:00.000Z'],
        ['month:2025-03', 60, 190, '2025-04-01T00:00:00.000Z'],
      ],
    );
  });

  it('refuses past the daily quota with Retry-After until UTC midnight, charging nothing', async () => {
    const { guard, limits, store, refusals } = fixture('2025-03-10T23:00:00Z');
    await guard.consumePredictions('t1', limits, 60);
    await assert.rejects(guard.consumePredictions('t1', limits, 41), (e: AppError) => {
      assert.ok(isAppError(e));
      assert.equal(e.code, 'quota_exceeded');
      assert.equal(e.status, 429);
      assert.equal(e.retryAfterSeconds, 3600);
      assert.equal(e.details?.resetAt, '2025-03-11T00:00:00.000Z');
      assert.equal(e.details?.used, 60);
      return true;
    });
    assert.equal(await store.get('t1', 'predictions', 'day:2025-03-10'), 60);
    assert.equal(await store.get('t1', 'predictions', 'month:2025-03'), 60);
    assert.deepEqual(refusals, ['t1:quota']);
    await guard.consumePredictions('t1', limits, 40);
  });

  it('a new UTC day resets the daily count but not the monthly one; the monthly refusal gives the day back', async () => {
    const { guard, limits, store, set } = fixture('2025-03-10T12:00:00Z');
    await guard.consumePredictions('t1', limits, 100);
    set('2025-03-11T00:00:00Z');
    await guard.consumePredictions('t1', limits, 100);
    set('2025-03-12T00:00:00Z');
    await assert.rejects(guard.consumePredictions('t1', limits, 60), (e: AppError) => {
      assert.equal(e.code, 'quota_exceeded');
      assert.equal(e.details?.period, 'month');
      assert.equal(e.details?.resetAt, '2025-04-01T00:00:00.000Z');
      assert.equal(e.retryAfterSeconds, 20 * 86400);
      return true;
    });
    assert.equal(await store.get('t1', 'predictions', 'day:2025-03-12'), 0, 'daily charge was given back');
    await guard.consumePredictions('t1', limits, 50);
    set('2025-04-01T00:00:00Z');
    const usage = await guard.predictionUsage('t1', limits);
    assert.deepEqual(
      usage.map((u) => u.used),
      [0, 0],
    );
  });

  it('refunds rows into the windows they were charged to', async () => {
    const { guard, limits, store, set } = fixture('2025-03-10T23:59:59Z');
    const charged = await guard.consumePredictions('t1', limits, 70);
    set('2025-03-11T00:00:01Z');
    await guard.refundPredictions('t1', charged, 70);
    assert.equal(await store.get('t1', 'predictions', 'day:2025-03-10'), 0);
    assert.equal(await store.get('t1', 'predictions', 'month:2025-03'), 0);
    assert.equal(await store.get('t1', 'predictions', 'day:2025-03-11'), 0);
  });

  it('keeps tenants apart', async () => {
    const { guard, limits } = fixture('2025-03-10T12:00:00Z');
    await guard.consumePredictions('t1', limits, 100);
    await guard.consumePredictions('t2', limits, 100);
    await assert.rejects(guard.consumePredictions('t1', limits, 1));
  });

  it('charges at once from memory what the awaited charge would, and charges nothing when it would refuse', async () => {
    const { guard, limits, set, refusals } = fixture('2025-03-31T23:00:00Z');
    const now = guard.consumePredictionsNow('t1', limits, 60);
    assert.deepEqual(
      now?.map((u) => [u.window, u.used, u.remaining, u.resetAt]),
      [
        ['day:2025-03-31', 60, 40, '2025-04-01T00:00:00.000Z'],
        ['month:2025-03', 60, 190, '2025-04-01T00:00:00.000Z'],
      ],
    );
    // Over the daily limit: undefined, nothing charged, no refusal reported (the awaited call reports it).
    assert.equal(guard.consumePredictionsNow('t1', limits, 41), undefined);
    assert.deepEqual((await guard.predictionUsage('t1', limits)).map((u) => u.used), [60, 60]);
    assert.deepEqual(refusals, []);
    // A new UTC day: a fresh daily window, the month goes on, and the month's limit refuses without keeping the day's charge.
    set('2025-04-01T00:00:01Z');
    assert.deepEqual(guard.consumePredictionsNow('t1', limits, 100)?.map((u) => [u.window, u.used]), [
      ['day:2025-04-01', 100],
      ['month:2025-04', 100],
    ]);
    set('2025-04-02T00:00:01Z');
    assert.deepEqual(guard.consumePredictionsNow('t1', limits, 100)?.map((u) => u.used), [100, 200]);
    set('2025-04-03T00:00:01Z');
    assert.equal(guard.consumePredictionsNow('t1', limits, 60), undefined);
    assert.deepEqual((await guard.predictionUsage('t1', limits)).map((u) => u.used), [0, 200]);
    await assert.rejects(guard.consumePredictions('t1', limits, 60), (e: AppError) => e.code === 'quota_exceeded');
  });
});
