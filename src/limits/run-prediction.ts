/**
 * One prediction request under every limit: charge the quota, run the rows on
 * the fair scheduler (small requests in the real-time lane, large ones as batch
 * slices), and refund the quota if the work is shed, cancelled or fails.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { FairScheduler } from './fair-scheduler.js';
import type { LimitedTenant, TenantQuotas } from './tenant-quotas.js';

/** Requests up to this many rows are real-time; larger ones run as batch slices. */
export const REALTIME_MAX_ROWS = 1000;

/** A prediction to admit and run. */
export interface PredictionRun {
  tenant: LimitedTenant;
  rows: number;
  /** Aborted when the client goes away; queued work is dropped, running work should stop. */
  signal?: AbortSignal;
  /** Budget from now; default 10 s real-time, 60 s batch. Past it the request is answered 503 + Retry-After. */
  deadlineMs?: number;
  /** Rows per batch slice; default the scheduler's (2,000). */
  sliceRows?: number;
}

/**
 * The uncontended case of `runPrediction`, with no promise and no queue: a
 * real-time request whose quota counters are in memory, when the scheduler has
 * a free slot and nobody waits, is charged and run at once. Returns undefined
 * having done nothing otherwise; the caller then takes `runPrediction`.
 */
export function runPredictionNow<T>(deps: { quotas: TenantQuotas; compute: FairScheduler }, tenant: LimitedTenant, rows: number, predict: () => T): { value: T } | undefined {
  if (rows > REALTIME_MAX_ROWS || !deps.compute.canRunNow(tenant.tenantId, tenant.limits.maxConcurrent)) return undefined;
  const charge = deps.quotas.consumePredictionsNow(tenant, rows);
  if (charge === undefined) return undefined;
  try {
    const ran = deps.compute.runNow({ tenantId: tenant.tenantId, maxConcurrent: tenant.limits.maxConcurrent, cost: Math.max(1, rows) }, predict);
    if (ran === undefined) void deps.quotas.refundPredictions(charge).catch(() => {}); // canRunNow held a moment ago; kept for safety
    return ran;
  } catch (error) {
    void deps.quotas.refundPredictions(charge).catch(() => {});
    throw error;
  }
}

/** Runs `predict(start, end)` over rows [0, rows) under the quota and the scheduler; resolves with all outputs in order. */
export async function runPrediction<T>(
  deps: { quotas: TenantQuotas; compute: FairScheduler },
  run: PredictionRun,
  predict: (start: number, end: number, signal: AbortSignal | undefined) => Promise<T[]> | T[],
): Promise<T[]> {
  const { tenant, rows, signal } = run;
  const charge = await deps.quotas.consumePredictions(tenant, rows);
  const common = { tenantId: tenant.tenantId, maxConcurrent: tenant.limits.maxConcurrent, ...(signal ? { signal } : {}) };
  try {
    if (rows <= REALTIME_MAX_ROWS) {
      return await deps.compute.run({ ...common, lane: 'realtime', cost: Math.max(1, rows), deadlineMs: run.deadlineMs ?? 10_000 }, (s) =>
        predict(0, rows, s),
      );
    }
    const slices = await deps.compute.runSliced(
      { ...common, rows, deadlineMs: run.deadlineMs ?? 60_000, ...(run.sliceRows ? { sliceRows: run.sliceRows } : {}) },
      // Slices granted back to back would chain as microtasks and never let I/O in: each slice after the
      // first yields one event-loop turn, so new requests are read and real-time tasks queue ahead of the next slice.
      async (start, end, s) => {
        if (start > 0) await yieldToLoop();
        return predict(start, end, s);
      },
    );
    return slices.flat();
  } catch (error) {
    await deps.quotas.refundPredictions(charge).catch(() => {});
    throw error;
  }
}
