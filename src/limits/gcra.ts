/**
 * The Generic Cell Rate Algorithm: a token bucket stored as one number, the
 * "theoretical arrival time" (TAT) at which the bucket will be full again.
 * Pure maths shared by the in-memory limiter and mirrored by the Redis script.
 */

/** Tolerance for float comparisons in milliseconds (sub-microsecond noise). */
const EPSILON_MS = 1e-6;

/** Inputs of one GCRA decision. */
export interface GcraInput {
  /** Stored TAT in clock milliseconds, or undefined for a full bucket. */
  tat: number | undefined;
  now: number;
  /** Units per second. */
  rate: number;
  /** Bucket capacity in units. */
  burst: number;
  cost: number;
}

/** A GCRA outcome; `tat` is what to store (unchanged when denied). */
export interface GcraResult {
  allowed: boolean;
  tat: number;
  remaining: number;
  /** Milliseconds until the bucket is full again. */
  resetMs: number;
  /** Milliseconds until this cost would be allowed; 0 when allowed. */
  retryAfterMs: number;
}

/** Milliseconds one unit takes to refill. */
export function emissionIntervalMs(rate: number): number {
  return 1000 / rate;
}

/** Tokens left when the bucket becomes full in `resetMs`. */
export function remainingTokens(resetMs: number, rate: number, burst: number): number {
  const interval = emissionIntervalMs(rate);
  return Math.max(0, Math.floor((interval * burst - resetMs) / interval + EPSILON_MS));
}

/** Decides one request of `cost` units against a bucket, GCRA style. */
export function gcraDecide(input: GcraInput): GcraResult {
  const { now, rate, burst, cost } = input;
  const interval = emissionIntervalMs(rate);
  const tolerance = interval * burst;
  const tat = input.tat === undefined || input.tat < now ? now : input.tat;
  const newTat = tat + interval * cost;
  const allowAt = newTat - tolerance;
  if (allowAt - now > EPSILON_MS) {
    const resetMs = tat - now;
    return { allowed: false, tat, remaining: remainingTokens(resetMs, rate, burst), resetMs, retryAfterMs: allowAt - now };
  }
  const resetMs = newTat - now;
  return { allowed: true, tat: newTat, remaining: remainingTokens(resetMs, rate, burst), resetMs, retryAfterMs: 0 };
}
