/**
 * A Redis client configured for rate limiting: fail fast instead of queueing,
 * so a dead or slow Redis turns into a quick fallback rather than stalled requests.
 */
import { Redis } from 'ioredis';

/** Options of `createLimitsRedisClient`. */
export interface LimitsRedisClientOptions {
  /** Per-command timeout. Default 100 ms: a limiter decision must never hold a request for long. */
  commandTimeoutMs?: number;
  /** Longest pause between reconnection attempts. Default 2,000 ms. */
  maxReconnectDelayMs?: number;
}

/** Creates an ioredis client whose commands fail at once while disconnected and time out quickly. */
export function createLimitsRedisClient(url: string, options: LimitsRedisClientOptions = {}): Redis {
  const maxDelay = options.maxReconnectDelayMs ?? 2000;
  const client = new Redis(url, {
    // Without these, commands issued while Redis is down wait in a queue for the reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 100,
    connectTimeout: 1000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay),
  });
  // Connection errors surface through failed commands; the degrading limiter logs the transition once.
  client.on('error', () => {});
  return client;
}
