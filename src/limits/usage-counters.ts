/**
 * Per-tenant, per-UTC-day tallies of requests admitted, throttled (by reason)
 * and shed, fed by the limits hooks into the buffered usage store, so the
 * operator's view covers every replica and survives restarts.
 */
import type { LimitsHooks } from './hooks.js';
import type { BufferedQuotaStore } from './postgres-quota-store.js';
import type { QuotaCounter } from './quota-store.js';
import { quotaWindow } from './quota-windows.js';
import type { Clock } from './rate-limiter.js';

/** The daily request counters, in the order reports show them. */
export const REQUEST_COUNTERS = ['requests', 'throttled_rate', 'throttled_quota', 'throttled_concurrency', 'shed'] as const satisfies readonly QuotaCounter[];

/** A hooks listener that counts into `store` under today's window. */
export function usageCountingHooks(store: BufferedQuotaStore, clock: Clock = Date.now): LimitsHooks {
  const today = () => quotaWindow('day', clock()).key;
  return {
    onDecision(event) {
      if (event.allowed) {
        // Quota decisions report refusals only; an allowed decision is the gate admitting a request.
        store.count(event.tenantId, 'requests', today(), 1);
      } else if (event.reason) {
        store.count(event.tenantId, `throttled_${event.reason}`, today(), 1);
      }
    },
    onShed(event) {
      store.count(event.tenantId, event.reason === 'queue_full' ? 'throttled_concurrency' : 'shed', today(), 1);
    },
  };
}
