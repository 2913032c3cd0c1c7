/**
 * Cross-replica invalidation: when a model version is published, an alias
 * moves, a key is revoked or a tenant is purged, every replica must drop what
 * it cached. Publishing delivers to the local subscribers at once (so the
 * publishing replica reads its own writes) and to the other replicas through
 * the backend.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { createRedisInvalidationBus } from './redis-invalidation-bus.js';

/** Something cached somewhere is stale. Every event names its tenant. */
export type InvalidationEvent =
  | { type: 'model-version'; tenantId: string; model: string; version?: string }
  | { type: 'alias-changed'; tenantId: string; model: string; alias: string }
  | { type: 'key-revoked'; tenantId: string; keyId: string }
  | { type: 'tenant-purged'; tenantId: string }
  | { type: 'tenant-changed'; tenantId: string }
  /** A RAG namespace (by id) committed a write or was deleted; caches older than `generation` are stale. */
  | { type: 'index-changed'; tenantId: string; namespace: string; generation: number };

/**
 * Delivered locally only, when a Redis subscription was re-established: events
 * may have been missed while disconnected, so caches that cannot tolerate
 * staleness (auth) should drop everything.
 */
export interface ResyncEvent {
  type: 'resync';
}

/** Handlers receive invalidations and resync notices. */
export type InvalidationHandler = (event: InvalidationEvent | ResyncEvent) => void;

/** Publish/subscribe of invalidation events across replicas. */
export interface InvalidationBus {
  publish(event: InvalidationEvent): Promise<void>;
  /** Returns a function that unsubscribes. */
  subscribe(handler: InvalidationHandler): () => void;
  /** Resolves once events from other replicas are being received. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** Configuration: in-process (one replica) or Redis pub/sub (many). */
export type InvalidationBusConfig =
  | { kind: 'memory' }
  | { kind: 'redis'; url?: string; client?: Redis; channelPrefix?: string; onError?: (error: unknown) => void };

/** Validates an event from the wire; returns null if it is not one. */
export function parseInvalidationEvent(value: unknown): InvalidationEvent | null {
  if (typeof value !== 'object' || value === null) return null;
  const e = value as Record<string, unknown>;
  const str = (k: string) => typeof e[k] === 'string' && (e[k] as string).length > 0;
  if (!str('tenantId')) return null;
  const tenantId = e.tenantId as string;
  switch (e.type) {
    case 'model-version':
      if (!str('model') || (e.version !== undefined && !str('version'))) return null;
      return e.version === undefined
        ? { type: 'model-version', tenantId, model: e.model as string }
        : { type: 'model-version', tenantId, model: e.model as string, version: e.version as string };
    case 'alias-changed':
      return str('model') && str('alias') ? { type: 'alias-changed', tenantId, model: e.model as string, alias: e.alias as string } : null;
    case 'key-revoked':
      return str('keyId') ? { type: 'key-revoked', tenantId, keyId: e.keyId as string } : null;
    case 'tenant-purged':
      return { type: 'tenant-purged', tenantId };
    case 'tenant-changed':
      return { type: 'tenant-changed', tenantId };
    case 'index-changed':
      return str('namespace') && Number.isSafeInteger(e.generation) && (e.generation as number) >= 0
        ? { type: 'index-changed', tenantId, namespace: e.namespace as string, generation: e.generation as number }
        : null;
    default:
      return null;
  }
}

/** Local fan-out shared by both backends; a throwing handler never stops the others. */
export class LocalDispatcher {
  private readonly emitter = new EventEmitter();
  constructor(private readonly onError: (error: unknown) => void = () => undefined) {
    this.emitter.setMaxListeners(0);
  }
  dispatch(event: InvalidationEvent | ResyncEvent): void {
    for (const listener of this.emitter.listeners('event') as InvalidationHandler[]) {
      try {
        listener(event);
      } catch (error) {
        this.onError(error);
      }
    }
  }
  subscribe(handler: InvalidationHandler): () => void {
    this.emitter.on('event', handler);
    return () => this.emitter.off('event', handler);
  }
}

/** The in-process bus: for one replica (embedded mode) and tests. */
export function createMemoryInvalidationBus(): InvalidationBus {
  const local = new LocalDispatcher();
  return {
    async publish(event) {
      local.dispatch(event);
    },
    subscribe: (handler) => local.subscribe(handler),
    ready: async () => undefined,
    async close() {},
  };
}

/** Creates the configured bus. */
export function createInvalidationBus(config: InvalidationBusConfig): InvalidationBus {
  return config.kind === 'memory' ? createMemoryInvalidationBus() : createRedisInvalidationBus(config);
}
