/**
 * A rate limiter shared by all replicas through Redis: one Lua script per
 * decision (EVALSHA, one round trip, atomic on the server).
 *
 * Clock: the script reads Redis's own `TIME`, so every replica measures the
 * bucket against the same clock and skew between application hosts cannot
 * hand out extra tokens or deny valid ones. (Redis 5+ replicates script
 * effects, so a non-deterministic `TIME` inside a script is safe.) After a
 * failover to a server whose clock differs, a bucket is briefly fuller or
 * emptier by the difference; GCRA stays well-defined either way.
 */
import type { Redis } from 'ioredis';
import { remainingTokens } from './gcra.js';
import { checkCost, DEFAULT_KEY_PREFIX, type RateLimiter, rateLimitKey, toDecision } from './rate-limiter.js';
import { ROUTE_CLASSES } from './tenant-limits.js';

/** Mirrors `gcraDecide`; stores the TAT as text with microsecond precision, expiring when the bucket is full. */
const GCRA_SCRIPT = `
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local newTat = tat + interval * cost
if newTat - interval * burst - now > 0.000001 then
  return {0, string.format('%.3f', tat - now), string.format('%.3f', newTat - interval * burst - now)}
end
local resetMs = newTat - now
if cost > 0 then
  redis.call('SET', KEYS[1], string.format('%.3f', newTat), 'PX', math.max(1, math.ceil(resetMs)))
end
return {1, string.format('%.3f', resetMs), '0'}
`;

const COMMAND = 'tenantmlGcra';

/** What the script command looks like once defined on a client. */
type GcraCommand = (key: string, interval: string, burst: string, cost: string) => Promise<[number, string, string]>;

/** A rate limiter that can also say whether its store answers. */
export interface ProbeableRateLimiter extends RateLimiter {
  /** Resolves when the store answers a trivial command. */
  ping(): Promise<void>;
}

/** Options of `createRedisRateLimiter`. */
export interface RedisRateLimiterOptions {
  /** A client the caller owns (see `createLimitsRedisClient` for the recommended options). */
  redis: Redis;
  keyPrefix?: string | undefined;
}

/** Builds the Redis-backed GCRA limiter; it never closes the client it was given. */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): ProbeableRateLimiter {
  const { redis } = options;
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: GCRA_SCRIPT });
  const gcra = (redis as unknown as Record<typeof COMMAND, GcraCommand>)[COMMAND].bind(redis);

  return {
    mode: 'redis',
    async consume(request) {
      const cost = checkCost(request);
      const key = rateLimitKey(prefix, request.tenantId, request.bucket);
      const [allowed, reset, retryAfter] = await gcra(key, String(1000 / request.rate), String(request.burst), String(cost));
      const resetMs = Number(reset);
      return toDecision(request.burst, {
        allowed: allowed === 1,
        remaining: remainingTokens(resetMs, request.rate, request.burst),
        resetMs,
        retryAfterMs: Number(retryAfter),
      });
    },
    async forgetTenant(tenantId) {
      return redis.del(...ROUTE_CLASSES.map((bucket) => rateLimitKey(prefix, tenantId, bucket)));
    },
    async ping() {
      await redis.ping();
    },
    async close() {},
  };
}
