import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AppError, isAppError } from '../../../src/errors.js';
import { createFairScheduler } from '../../../src/limits/fair-scheduler.js';
import type { ShedEvent } from '../../../src/limits/hooks.js';

/** A promise the test resolves by hand, to hold a task in its slot. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('fair scheduler', () => {
  it("runs tenant B's single task right after the running one, although A has 1,000 queued", async () => {
    const scheduler = createFairScheduler({ slots: 1 });
    const order: string[] = [];
    const work = (name: string) => async () => {
      order.push(name);
      await tick();
    };
    const all: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) all.push(scheduler.run({ tenantId: 'A', lane: 'realtime' }, work(`A${i}`)));
    all.push(scheduler.run({ tenantId: 'B', lane: 'realtime' }, work('B')));
    await Promise.all(all);
    assert.equal(order.length, 1001);
    assert.ok(order.indexOf('B') <= 1, `B ran at position ${order.indexOf('B')}`);
    assert.equal(scheduler.stats('A').started, 1000);
    assert.equal(scheduler.stats('B').inFlight, 0);
  });

  it("enforces each tenant's maxConcurrent while others use the free slots", async () => {
    const scheduler = createFairScheduler({ slots: 4 });
    const hold = gate();
    const inFlight = new Map<string, number>();
    const peak = new Map<string, number>();
    let peakTotal = 0;
    const task = (tenantId: string) => async () => {
      inFlight.set(tenantId, (inFlight.get(tenantId) ?? 0) + 1);
      peak.set(tenantId, Math.max(peak.get(tenantId) ?? 0, inFlight.get(tenantId)!));
      peakTotal = Math.max(peakTotal, [...inFlight.values()].reduce((a, b) => a + b, 0));
      await hold.opened;
      inFlight.set(tenantId, inFlight.get(tenantId)! - 1);
    };
    const all: Promise<void>[] = [];
    for (let i = 0; i < 6; i++) all.push(scheduler.run({ tenantId: 'A', lane: 'realtime', maxConcurrent: 2 }, task('A')));
    for (let i = 0; i < 2; i++) all.push(scheduler.run({ tenantId: 'B', lane: 'realtime', maxConcurrent: 2 }, task('B')));
    await tick();
    assert.equal(scheduler.stats('A').inFlight, 2);
    assert.equal(scheduler.stats('A').queued, 4);
    assert.equal(scheduler.stats('B').inFlight, 2);
    hold.open();
    await Promise.all(all);
    assert.equal(peak.get('A'), 2);
    assert.equal(peakTotal, 4);
  });

  it('runs real-time work strictly ahead of batch work', async () => {
    const scheduler = createFairScheduler({ slots: 1 });
    const hold = gate();
    const order: string[] = [];
    const first = scheduler.run({ tenantId: 'A', lane: 'batch' }, () => hold.opened);
    const rest = [
      scheduler.run({ tenantId: 'A', lane: 'batch', cost: 100 }, () => order.push('batch-A1')),
      scheduler.run({ tenantId: 'C', lane: 'batch', cost: 100 }, () => order.push('batch-C1')),
      scheduler.run({ tenantId: 'B', lane: 'realtime' }, () => order.push('rt-B1')),
      scheduler.run({ tenantId: 'A', lane: 'realtime' }, () => order.push('rt-A1')),
    ];
    hold.open();
    await Promise.all([first, ...rest]);
    assert.deepEqual(order.slice(0, 2).sort(), ['rt-A1', 'rt-B1']);
    assert.deepEqual(order.slice(2).sort(), ['batch-A1', 'batch-C1']);
  });

  it('runs a large batch as slices, in order, with real-time work in between', async () => {
    const scheduler = createFairScheduler({ slots: 1 });
    const events: string[] = [];
    let realtime: Promise<unknown> | undefined;
    const results = await scheduler.runSliced({ tenantId: 'A', rows: 10_500, sliceRows: 2_500 }, async (start, end) => {
      events.push(`slice ${start}-${end}`);
      // A real-time request from another tenant arrives while the first slice runs.
      if (start === 0) realtime = scheduler.run({ tenantId: 'B', lane: 'realtime' }, () => events.push('realtime B'));
      await sleep(2);
      return end - start;
    });
    await realtime;
    assert.deepEqual(results, [2500, 2500, 2500, 2500, 500]);
    assert.deepEqual(events.slice(0, 3), ['slice 0-2500', 'realtime B', 'slice 2500-5000']);
    assert.equal(events.at(-1), 'slice 10000-10500');
  });

  it("interleaves two tenants' batches slice by slice", async () => {
    const scheduler = createFairScheduler({ slots: 1 });
    const order: string[] = [];
    const batch = (tenantId: string) =>
      scheduler.runSliced({ tenantId, rows: 4000, sliceRows: 1000 }, async () => {
        order.push(tenantId);
        await tick();
      });
    await Promise.all([batch('A'), batch('B')]);
    assert.equal(order.join(''), 'ABABABAB');
  });

  it('sheds early, with 503 and Retry-After, a task whose estimated wait passes its deadline', async () => {
    const sheds: ShedEvent[] = [];
    const scheduler = createFairScheduler({ slots: 1, initialMsPerUnit: { realtime: 10 }, hooks: { onShed: (e) => sheds.push(e) } });
    const hold = gate();
    const queued: Promise<unknown>[] = [scheduler.run({ tenantId: 'A', lane: 'realtime' }, () => hold.opened)];
    for (let i = 0; i < 10; i++) queued.push(scheduler.run({ tenantId: 'A', lane: 'realtime' }, () => i));
    // B waits for one of A's tasks at most, so it fits a 50 ms budget ...
    const b = scheduler.run({ tenantId: 'B', lane: 'realtime', deadlineMs: 50 }, () => 'b');
    // ... while A's next task would wait behind its own ten (~100 ms).
    await assert.rejects(scheduler.run({ tenantId: 'A', lane: 'realtime', deadlineMs: 50 }, () => 'late'), (e: AppError) => {
      assert.ok(isAppError(e));
      assert.equal(e.code, 'overloaded');
      assert.equal(e.status, 503);
      assert.equal(e.retryAfterSeconds, 1);
      return true;
    });
    assert.equal(sheds.length, 1);
    assert.equal(sheds[0]?.tenantId, 'A');
    assert.equal(sheds[0]?.reason, 'deadline');
    assert.ok(sheds[0]!.estimatedWaitMs >= 100, `estimated ${sheds[0]?.estimatedWaitMs} ms`);
    assert.equal(scheduler.stats('A').shed, 1);
    hold.open();
    assert.equal(await b, 'b');
    await Promise.all(queued);
  });

  it('answers 503 when the deadline passes while the task is still queued', async () => {
    const scheduler = createFairScheduler({ slots: 1 });
    const hold = gate();
    const running = scheduler.run({ tenantId: 'A', lane: 'batch' }, () => hold.opened);
    let ran = false;
    const started = performance.now();
    await assert.rejects(
      scheduler.run({ tenantId: 'B', lane: 'realtime', deadlineMs: 30 }, () => {
        ran = true;
      }),
      (e: AppError) => e.code === 'overloaded',
    );
    assert.ok(performance.now() - started < 1000, 'rejected at the deadline, not when the slot freed');
    assert.equal(scheduler.stats('B').queued, 0);
    hold.open();
    await running;
    await tick();
    assert.equal(ran, false);
  });

  it('drops a queued task when its AbortSignal fires, and never runs it', async () => {
    const scheduler = createFairScheduler({ slots: 1 });
    const hold = gate();
    const running = scheduler.run({ tenantId: 'A', lane: 'realtime' }, () => hold.opened);
    const controller = new AbortController();
    let ran = false;
    const cancelled = scheduler.run({ tenantId: 'A', lane: 'realtime', signal: controller.signal }, () => {
      ran = true;
    });
    controller.abort();
    await assert.rejects(cancelled, (e: Error) => e.name === 'AbortError');
    assert.deepEqual(
      { cancelled: scheduler.stats('A').cancelled, queued: scheduler.stats('A').queued },
      { cancelled: 1, queued: 0 },
    );
    await assert.rejects(scheduler.run({ tenantId: 'A', lane: 'realtime', signal: controller.signal }, () => 1), (e: Error) => e.name === 'AbortError');
    hold.open();
    await running;
    await tick();
    assert.equal(ran, false);
  });

  it('stops a sliced batch between slices when aborted', async () => {
    const scheduler = createFairScheduler({ slots: 1 });
    const controller = new AbortController();
    const seen: number[] = [];
    await assert.rejects(
      scheduler.runSliced({ tenantId: 'A', rows: 5000, sliceRows: 1000, signal: controller.signal }, async (start) => {
        seen.push(start);
        if (start === 1000) controller.abort();
      }),
      (e: Error) => e.name === 'AbortError',
    );
    assert.deepEqual(seen, [0, 1000]);
  });

  it("refuses with 429 once a tenant's own queue is full", async () => {
    const sheds: ShedEvent[] = [];
    const scheduler = createFairScheduler({ slots: 1, maxQueuedPerTenant: 2, hooks: { onShed: (e) => sheds.push(e) } });
    const hold = gate();
    const accepted = [0, 1, 2].map(() => scheduler.run({ tenantId: 'A', lane: 'realtime' }, () => hold.opened));
    await assert.rejects(scheduler.run({ tenantId: 'A', lane: 'realtime' }, () => 0), (e: AppError) => e.code === 'rate_limited');
    assert.equal(sheds[0]?.reason, 'queue_full');
    const other = scheduler.run({ tenantId: 'B', lane: 'realtime' }, () => 'fine');
    hold.open();
    await Promise.all(accepted);
    assert.equal(await other, 'fine');
  });

  it("passes a task's error to its caller and frees the slot", async () => {
    const scheduler = createFairScheduler({ slots: 1 });
    await assert.rejects(
      scheduler.run({ tenantId: 'A', lane: 'realtime' }, () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await scheduler.run({ tenantId: 'A', lane: 'realtime' }, () => 'next'), 'next');
    assert.equal(scheduler.stats('A').inFlight, 0);
  });

  it('reports each wait to onQueued', async () => {
    const waits: number[] = [];
    const scheduler = createFairScheduler({ slots: 1, hooks: { onQueued: (e) => waits.push(e.waitMs) } });
    await Promise.all([
      scheduler.run({ tenantId: 'A', lane: 'realtime' }, () => sleep(20)),
      scheduler.run({ tenantId: 'B', lane: 'realtime' }, () => 0),
    ]);
    assert.equal(waits.length, 2);
    assert.ok(waits[0]! < 5);
    assert.ok(waits[1]! >= 15, `second task waited ${waits[1]} ms`);
    assert.equal(scheduler.stats('B').totalWaitMs, waits[1]);
  });

  it('runs a real-time task at once only when a slot is free and no real-time task waits', async () => {
    const scheduler = createFairScheduler({ slots: 1 });
    assert.deepEqual(scheduler.runNow({ tenantId: 'A', cost: 2 }, () => 'ran'), { value: 'ran' });
    assert.deepEqual(
      { ...scheduler.stats('A') },
      { admitted: 1, started: 1, shed: 0, cancelled: 0, inFlight: 0, queued: 0, totalWaitMs: 0 },
    );
    // A task holds the only slot: nothing runs at once, and nothing is counted.
    const held = gate();
    const running = scheduler.run({ tenantId: 'A', lane: 'realtime' }, () => held.opened);
    assert.equal(scheduler.canRunNow('B'), false);
    assert.equal(scheduler.runNow({ tenantId: 'B' }, () => assert.fail('must not run')), undefined);
    assert.equal(scheduler.stats('B').admitted, 0);
    // A queued real-time task keeps its turn even once the slot is free.
    const queued = scheduler.run({ tenantId: 'C', lane: 'realtime' }, () => 'C');
    held.open();
    await running;
    assert.equal(await queued, 'C');
    assert.deepEqual(scheduler.runNow({ tenantId: 'B' }, () => 'B'), { value: 'B' });
  });

  it('runs nothing at once for a tenant at its maxConcurrent, and frees the slot when the task throws', async () => {
    const scheduler = createFairScheduler({ slots: 2 });
    const held = gate();
    const running = scheduler.run({ tenantId: 'A', lane: 'realtime', maxConcurrent: 1 }, () => held.opened);
    assert.equal(scheduler.runNow({ tenantId: 'A', maxConcurrent: 1 }, () => 'A'), undefined);
    assert.throws(() => scheduler.runNow({ tenantId: 'B' }, () => {
      throw new Error('boom');
    }), /boom/);
    assert.equal(scheduler.stats('B').inFlight, 0);
    assert.deepEqual(scheduler.runNow({ tenantId: 'B' }, () => 'B'), { value: 'B' });
    held.open();
    await running;
  });

  it('starts a batch task that queued while a task ran at once', async () => {
    const scheduler = createFairScheduler({ slots: 1 });
    let batch: Promise<string> | undefined;
    scheduler.runNow({ tenantId: 'A' }, () => {
      batch = scheduler.run({ tenantId: 'B', lane: 'batch' }, () => 'batch ran');
    });
    assert.equal(await batch, 'batch ran');
  });
});

