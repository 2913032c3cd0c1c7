/**
 * Invalidation bus over Redis pub/sub. A subscribed connection can do nothing
 * else, so the bus holds two: one to publish, one to listen. Every message
 * carries the publishing instance's id, so an instance ignores its own echo
 * (it already delivered the event locally when publishing). ioredis
 * reconnects and re-subscribes by itself; after a re-subscribe the bus tells
 * its subscribers to `resync`, since messages sent meanwhile are lost.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { errors } from '../errors.js';
import { type InvalidationBus, LocalDispatcher, parseInvalidationEvent } from './invalidation-bus.js';

/** Options of the Redis bus. */
export interface RedisInvalidationBusOptions {
  url?: string;
  /** Connection used to publish (not closed by `close()`); the subscriber is always a duplicate. */
  client?: Redis;
  /** Channel is `<prefix>invalidation`. Default `tenantml:`. */
  channelPrefix?: string;
  onError?: (error: unknown) => void;
}

/** Creates a bus whose events reach every instance subscribed to the same channel. */
export function createRedisInvalidationBus(options: RedisInvalidationBusOptions): InvalidationBus {
  const channel = `${options.channelPrefix ?? 'tenantml:'}invalidation`;
  const origin = randomUUID();
  const onError = options.onError ?? (() => undefined);
  const local = new LocalDispatcher(onError);
  const connection = { connectTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: (n: number) => Math.min(n * 100, 2000) };
  const owned = options.client === undefined;
  const publisher = options.client ?? new Redis(options.url ?? 'redis://127.0.0.1:6379', connection);
  const subscriber = options.client ? options.client.duplicate(connection) : new Redis(options.url ?? 'redis://127.0.0.1:6379', connection);
  if (owned) publisher.on('error', onError);
  subscriber.on('error', onError);

  let subscribedOnce = false;
  const ready = subscriber.subscribe(channel).then(() => {
    subscribedOnce = true;
  });
  ready.catch(onError);
  subscriber.on('ready', () => {
    // 'ready' after the first subscription means a reconnect (auto-resubscribed).
    if (subscribedOnce) local.dispatch({ type: 'resync' });
  });
  subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    let message: { origin?: unknown; event?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch (error) {
      onError(error);
      return;
    }
    if (message.origin === origin) return;
    const event = parseInvalidationEvent(message.event);
    if (event === null) {
      onError(new Error(`ignored a malformed invalidation message: ${text.slice(0, 200)}`));
      return;
    }
    local.dispatch(event);
  });

  return {
    async publish(event) {
      local.dispatch(event);
      try {
        await publisher.publish(channel, JSON.stringify({ origin, event }));
      } catch (error) {
        throw errors.unavailable('could not publish a cache invalidation to other replicas', 1, error);
      }
    },
    subscribe: (handler) => local.subscribe(handler),
    ready: () => ready,
    async close() {
      await ready.catch(() => undefined);
      subscriber.disconnect();
      if (owned) publisher.disconnect();
    },
  };
}
