/**
 * The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-10,
 * structured-field form) and `Retry-After`, rendered from a decision.
 *
 *   RateLimit-Policy: "default";q=100;w=2     quota q units per window of w seconds
 *   RateLimit: "default";r=42;t=1             r units left, t seconds until the quota is whole again
 *
 * The draft describes a quota per window; our buckets refill continuously.
 * We advertise the window in which the bucket refills completely
 * (w = ceil(burst / rate), at least 1 s, since `w` is an integer) and the
 * quota that rate delivers in it, never less than the burst, so a client
 * pacing itself by the policy matches the long-run rate.
 */
import type { RateLimitDecision } from './rate-limiter.js';

/** A named policy as headers advertise it. */
export interface HeaderPolicy {
  /** Policy identifier shown to clients, e.g. the bucket name `default` or `predict`. */
  name: string;
  /** Units per second. */
  rate: number;
  /** Bucket capacity in units. */
  burst: number;
}

// Policy names are the few bucket names, and every tenant response renders two of them.
const sfStrings = new Map<string, string>();

function sfString(value: string): string {
  const known = sfStrings.get(value);
  if (known !== undefined) return known;
  // Structured-field strings are printable ASCII with `\` and `"` escaped.
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  const rendered = `"${printable.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  if (sfStrings.size < 1000) sfStrings.set(value, rendered);
  return rendered;
}

/** The window and quota advertised for a continuously refilling bucket. */
export function advertisedQuota(policy: HeaderPolicy): { quota: number; windowSeconds: number } {
  const windowSeconds = Math.max(1, Math.ceil(policy.burst / policy.rate - 1e-9));
  const quota = Math.max(policy.burst, Math.floor(policy.rate * windowSeconds + 1e-9));
  return { quota, windowSeconds };
}

/** The `RateLimit-Policy` field value, e.g. `"default";q=100;w=1`. */
export function formatRateLimitPolicy(policy: HeaderPolicy): string {
  const { quota, windowSeconds } = advertisedQuota(policy);
  return `${sfString(policy.name)};q=${quota};w=${windowSeconds}`;
}

/** The `RateLimit` field value, e.g. `"default";r=42;t=1`. */
export function formatRateLimit(policyName: string, decision: RateLimitDecision): string {
  const remaining = Math.max(0, Math.floor(decision.remaining));
  return `${sfString(policyName)};r=${remaining};t=${Math.max(0, Math.ceil(decision.resetSeconds))}`;
}

/** The `Retry-After` value in whole seconds: rounded up, never below 1. */
export function formatRetryAfter(seconds: number): string {
  return String(Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds - 1e-9)) : 1);
}

/**
 * All rate-limit headers of a response; `retry-after` only when the request was refused. The names are lower
 * case, as Fastify stores and sends them: it lower-cases each name it is given, and a mixed-case name then makes a
 * new string per response that V8 must look up in its string table to use as a key (0.7% of the hot predict path's
 * CPU in a profile).
 */
export function rateLimitHeaders(policy: HeaderPolicy, decision: RateLimitDecision): Record<string, string> {
  const headers: Record<string, string> = {
    'ratelimit-policy': formatRateLimitPolicy(policy),
    ratelimit: formatRateLimit(policy.name, decision),
  };
  if (!decision.allowed) headers['retry-after'] = formatRetryAfter(decision.retryAfterSeconds);
  return headers;
}
