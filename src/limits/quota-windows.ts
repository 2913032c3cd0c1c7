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
  /** `resetsAt` as ISO-8601 UTC text, as answers show it. */
  resetAt: string;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

// The last window computed per period: nearly every call falls in it, and the hot path asks per request.
const current: Partial<Record<QuotaPeriod, QuotaWindow>> = {};

/** The window of `period` that contains the instant `now` (epoch ms), in UTC. */
export function quotaWindow(period: QuotaPeriod, now: number): QuotaWindow {
  const known = current[period];
  if (known !== undefined && now >= known.startsAt && now < known.resetsAt) return known;
  const window = computeWindow(period, now);
  current[period] = window;
  return window;
}

function computeWindow(period: QuotaPeriod, now: number): QuotaWindow {
  const at = new Date(now);
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  if (period === 'day') {
    const day = at.getUTCDate();
    return withResetText({
      period,
      key: `day:${year}-${pad(month + 1)}-${pad(day)}`,
      startsAt: Date.UTC(year, month, day),
      resetsAt: Date.UTC(year, month, day + 1),
    });
  }
  return withResetText({
    period,
    key: `month:${year}-${pad(month + 1)}`,
    startsAt: Date.UTC(year, month, 1),
    resetsAt: Date.UTC(year, month + 1, 1),
  });
}

function withResetText(window: Omit<QuotaWindow, 'resetAt'>): QuotaWindow {
  return Object.freeze({ ...window, resetAt: new Date(window.resetsAt).toISOString() });
}

/** Whole seconds from `now` until the window resets, at least 1 (a Retry-After value). */
export function secondsUntilReset(window: QuotaWindow, now: number): number {
  return Math.max(1, Math.ceil((window.resetsAt - now) / 1000));
}
