/**
 * Artifact store on Redis: one string value per object, the bytes as a
 * Buffer. SET replaces a value atomically, so `put` needs no rename dance.
 * The connection is tuned to fail fast (short connect and command timeouts,
 * one retry per command): a request should get a 503 in about a second when
 * Redis is down, not hang behind an offline queue.
 */
import { Redis } from 'ioredis';
import { errors } from '../errors.js';
import { assertStoreKey, assertStorePrefix } from './artifact-key.js';
import type { ArtifactStore, RedisStoreConfig } from './artifact-store.js';

/** Connection options that make an unreachable Redis fail quickly instead of queueing forever. */
export function failFastRedisOptions(timeoutMs: number) {
  return {
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
  };
}

/** Escapes the glob characters SCAN MATCH understands. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

function down(op: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return errors.unavailable(`artifact store (redis) ${op} failed: ${message}`, 1, error);
}

/** Creates a raw (unsealed) store on Redis. */
export function createRedisArtifactStore(config: RedisStoreConfig): ArtifactStore {
  const prefix = config.prefix ?? 'tenantml:artifacts:';
  const owned = config.client === undefined;
  const redis =
    config.client ?? new Redis(config.url ?? 'redis://127.0.0.1:6379', failFastRedisOptions(config.timeoutMs ?? 2000));
  // Without a listener ioredis reports every failed reconnect as an unhandled error.
  if (owned) redis.on('error', () => undefined);

  const full = (key: string) => {
    assertStoreKey(key);
    return prefix + key;
  };

  async function guarded<R>(op: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (error) {
      throw down(op, error);
    }
  }

  async function scan(keyPrefix: string, onBatch: (keys: string[]) => Promise<void>): Promise<void> {
    const match = `${globEscape(prefix + keyPrefix)}*`;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await onBatch(keys);
    } while (cursor !== '0');
  }

  return {
    kind: 'redis',
    async put(key, bytes) {
      const k = full(key);
      await guarded('write', () => redis.set(k, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
    },
    async get(key) {
      const k = full(key);
      const value = await guarded('read', () => redis.getBuffer(k));
      return value === null ? null : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    },
    async exists(key) {
      const k = full(key);
      return (await guarded('exists', () => redis.exists(k))) === 1;
    },
    async delete(key) {
      const k = full(key);
      return (await guarded('delete', () => redis.unlink(k))) === 1;
    },
    async deletePrefix(keyPrefix) {
      assertStorePrefix(keyPrefix);
      let count = 0;
      await guarded('delete prefix', () =>
        scan(keyPrefix, async (keys) => {
          count += await redis.unlink(...keys);
        }),
      );
      return count;
    },
    async list(keyPrefix) {
      assertStorePrefix(keyPrefix);
      const out = new Set<string>(); // SCAN may return a key more than once
      await guarded('list', () =>
        scan(keyPrefix, async (keys) => {
          for (const k of keys) out.add(k.slice(prefix.length));
        }),
      );
      return [...out].sort();
    },
    async close() {
      if (owned) redis.disconnect();
    },
  };
}
