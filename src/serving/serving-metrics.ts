/**
 * Prometheus metrics of the model multiplexer, per tenant: cache hits and
 * misses, loads (admitted, not admitted, failed), evictions by reason, load
 * latency and predict latency; resident and transient bytes as gauges read at
 * scrape time. Global models count under the `Global` scope.
 */
import { Gauge, type Registry } from 'prom-client';
import { RequestPathCounter, RequestPathHistogram } from '../metrics/request-path-metrics.js';
import type { ModelCacheEvent, ModelCacheSnapshot } from './model-cache-stats.js';

/** Hooks the cache and the predict path call. */
export interface ServingMetrics {
  onEvent(event: ModelCacheEvent): void;
  /** One prediction of `tenantId` took `ms` with its model pinned. */
  onPredict(tenantId: string, ms: number): void;
}

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Registers the serving metrics in `registry`; `snapshot` is read at each scrape. */
export function createServingMetrics(registry: Registry, snapshot: () => ModelCacheSnapshot): ServingMetrics {
  const requests = new RequestPathCounter({
    name: 'tenantml_model_cache_requests_total',
    help: 'Model cache lookups by tenant and result (hit, miss)',
    labelNames: ['tenant', 'result'],
    registers: [registry],
  });
  // Loads and evictions are on the request path too: a cold single-row request loads its model in the request's turn,
  // hundreds a second under Zipf traffic. prom-client's label objects promoted to the old generation there.
  const loads = new RequestPathCounter({
    name: 'tenantml_model_loads_total',
    help: 'Model loads from the artifact store by tenant and outcome (admitted, not_admitted, failed)',
    labelNames: ['tenant', 'outcome'],
    registers: [registry],
  });
  const evictions = new RequestPathCounter({
    name: 'tenantml_model_evictions_total',
    help: 'Models dropped from the cache by tenant and reason (budget, tenant-cap, invalidated)',
    labelNames: ['tenant', 'reason'],
    registers: [registry],
  });
  const loadSeconds = new RequestPathHistogram({
    name: 'tenantml_model_load_seconds',
    help: 'Time to fetch, verify, parse and compile a model, by tenant',
    labelNames: ['tenant'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const predictSeconds = new RequestPathHistogram({
    name: 'tenantml_model_predict_seconds',
    help: 'Time a prediction held its model (encode, predict), by tenant',
    labelNames: ['tenant'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'tenantml_model_cache_bytes',
    help: 'Bytes of loaded models: resident (counted against the budget), transient (held only by running requests), budget',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      const s = snapshot();
      this.set({ kind: 'resident' }, s.residentBytes);
      this.set({ kind: 'transient' }, s.transientBytes);
      this.set({ kind: 'budget' }, s.budgetBytes);
    },
  });
  new Gauge({
    name: 'tenantml_model_cache_entries',
    help: 'Models resident in the cache',
    registers: [registry],
    collect() {
      this.set(snapshot().entries.length);
    },
  });
  return {
    onEvent(event) {
      const tenant = event.key.tenantId;
      switch (event.type) {
        case 'hit':
        case 'miss':
          requests.inc(tenant, event.type);
          return;
        case 'load':
          loads.inc(tenant, event.admitted ? 'admitted' : 'not_admitted');
          loadSeconds.observe(event.durationMs / 1000, tenant);
          return;
        case 'load-failed':
          loads.inc(tenant, 'failed');
          return;
        case 'evict':
          evictions.inc(tenant, event.reason);
          return;
      }
    },
    onPredict(tenantId, ms) {
      predictSeconds.observe(ms / 1000, tenantId);
    },
  };
}
