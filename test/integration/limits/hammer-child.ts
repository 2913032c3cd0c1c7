/**
 * Child process of the multi-process limiter test: from a shared start time,
 * hammers one tenant's bucket for a fixed duration and prints one JSON line
 * with what it was granted.
 */
import { Redis } from 'ioredis';
import { createRedisRateLimiter } from '../../../src/limits/redis-rate-limiter.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const redis = new Redis(env('HAMMER_REDIS_URL'), { maxRetriesPerRequest: 1 });
const limiter = createRedisRateLimiter({ redis, keyPrefix: env('HAMMER_PREFIX') });
const request = { tenantId: env('HAMMER_TENANT'), bucket: 'predict' as const, rate: Number(env('HAMMER_RATE')), burst: Number(env('HAMMER_BURST')) };
const startAt = Number(env('HAMMER_START_AT'));
const endAt = startAt + Number(env('HAMMER_DURATION_MS'));

await redis.ping();
await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
let allowed = 0;
let denied = 0;
let first = Number.POSITIVE_INFINITY;
let last = 0;

async function loop(): Promise<void> {
  while (Date.now() < endAt) {
    const sentAt = Date.now();
    const decision = await limiter.consume(request);
    first = Math.min(first, sentAt);
    last = Math.max(last, Date.now());
    if (decision.allowed) allowed++;
    else denied++;
  }
}

await Promise.all(Array.from({ length: 4 }, loop));
process.stdout.write(`${JSON.stringify({ allowed, denied, first, last })}\n`);
await redis.quit();
