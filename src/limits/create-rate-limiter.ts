/**
 * `createRateLimiter(config)`: the one place that picks a rate-limiter backend.
 */
import type { Redis } from 'ioredis';
import { createDegradingRateLimiter, type DegradingRateLimiterOptions } from './degrading-rate-limiter.js';
import { createMemoryRateLimiter } from './memory-rate-limiter.js';
import type { Clock, RateLimiter } from './rate-limiter.js';
import { createRedisRateLimiter } from './redis-rate-limiter.js';

/** Configuration of `createRateLimiter`. */
export type RateLimiterConfig =
  | { kind: 'memory'; clock?: Clock }
  | { kind: 'redis'; redis: Redis; keyPrefix?: string }
  | ({ kind: 'redis-with-fallback'; redis: Redis; keyPrefix?: string; clock?: Clock } & Omit<
      DegradingRateLimiterOptions,
      'primary' | 'fallback'
    >);

/** Builds a rate limiter; `redis-with-fallback` is what production replicas use. */
export function createRateLimiter(config: RateLimiterConfig = { kind: 'memory' }): RateLimiter {
  switch (config.kind) {
    case 'memory':
      return createMemoryRateLimiter({ clock: config.clock });
    case 'redis':
      return createRedisRateLimiter({ redis: config.redis, keyPrefix: config.keyPrefix });
    case 'redis-with-fallback': {
      const { redis, keyPrefix, clock, kind: _kind, ...options } = config;
      return createDegradingRateLimiter({
        ...options,
        primary: createRedisRateLimiter({ redis, keyPrefix }),
        fallback: createMemoryRateLimiter({ clock }),
      });
    }
  }
}
