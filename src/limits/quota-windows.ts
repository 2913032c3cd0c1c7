/**
 * Quota windows in UTC: which day and calendar month an instant belongs to,
 * the key a counter is stored under, and when the window resets.
 */

/** The periods quotas are counted over. */
export type QuotaPeriod = 'day' | 'month';

/** One window of a period. */
export interface QuotaWindow {
  period: QuotaPeriod;
  /** Stable storage key, e.g. `day:2025-03-31` or `month:2025-03`. */
  key: string;
  /** Inclusive start, epoch milliseconds. */
  startsAt: number;
  /** Exclusive end = the moment the counter resets, epoch milliseconds. */
  resetsAt: number;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** The window of `period` that contains the instant `now` (epoch ms), in UTC. */
export function quotaWindow(period: QuotaPeriod, now: number): QuotaWindow {
  const at = new Date(now);
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  if (period === 'day') {
    const day = at.getUTCDate();
    return {
      period,
      key: `day:${year}-${pad(month + 1)}-${pad(day)}`,
      startsAt: Date.UTC(year, month, day),
      resetsAt: Date.UTC(year, month, day + 1),
    };
  }
  return {
    period,
    key: `month:${year}-${pad(month + 1)}`,
    startsAt: Date.UTC(year, month, 1),
    resetsAt: Date.UTC(year, month + 1, 1),
  };
}

/** Whole seconds from `now` until the window resets, at least 1 (a Retry-After value). */
export function secondsUntilReset(window: QuotaWindow, now: number): number {
  return Math.max(1, Math.ceil((window.resetsAt - now) / 1000));
}
