/** Wires the model cache to the invalidation bus, so every replica drops what another replica made stale. */
import type { InvalidationBus, InvalidationEvent, ResyncEvent } from './invalidation-bus.js';
import type { ModelCache } from './model-cache.js';

/** Applies one event to the model cache; returns how many entries or loads were dropped. */
export function applyInvalidation(cache: ModelCache<unknown>, event: InvalidationEvent | ResyncEvent): number {
  switch (event.type) {
    case 'model-version':
      return cache.invalidatePrefix(
        event.version === undefined
          ? { tenantId: event.tenantId, model: event.model }
          : { tenantId: event.tenantId, model: event.model, version: event.version },
      );
    case 'tenant-purged':
    case 'tenant-changed':
      return cache.invalidateTenant(event.tenantId);
    case 'alias-changed': // entries are keyed by exact version; the alias pointer lives in the registry cache
    case 'key-revoked': // the auth cache's business
    case 'index-changed': // the RAG index cache's business
    case 'resync': // versions are immutable, so a missed event leaves nothing wrong in this cache
      return 0;
  }
}

/** Subscribes the cache to the bus; returns the unsubscribe function. */
export function connectModelCacheToBus<T>(bus: InvalidationBus, cache: ModelCache<T>): () => void {
  return bus.subscribe((event) => {
    applyInvalidation(cache as ModelCache<unknown>, event);
  });
}
