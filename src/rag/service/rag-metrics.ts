/** Prometheus metrics of the RAG domain. */
import { Counter, Gauge, type Registry } from 'prom-client';

/** Counters and gauges the RAG services update. */
export interface RagMetrics {
  /** A hit the index returned but row-level security did not: must stay 0. */
  isolationAlarms: Counter;
  /** Index loads by where they came from: `artifact` or `rebuild`. */
  indexLoads: Counter<'source'>;
  /** Persisted indexes found corrupt (then rebuilt). */
  corruptIndexes: Counter;
  indexCacheBytes: Gauge;
  queries: Counter<'mode'>;
}

/** Registers the RAG metrics in `registry`. */
export function createRagMetrics(registry: Registry): RagMetrics {
  return {
    isolationAlarms: new Counter({
      name: 'tenantml_rag_isolation_alarms_total',
      help: 'Search hits dropped because row-level security did not return them (should always be 0)',
      registers: [registry],
    }),
    indexLoads: new Counter({ name: 'tenantml_rag_index_loads_total', help: 'Vector index loads by source', labelNames: ['source'], registers: [registry] }),
    corruptIndexes: new Counter({ name: 'tenantml_rag_index_corrupt_total', help: 'Persisted vector indexes found corrupt and rebuilt', registers: [registry] }),
    indexCacheBytes: new Gauge({ name: 'tenantml_rag_index_cache_bytes', help: 'Bytes of vector indexes resident in memory', registers: [registry] }),
    queries: new Counter({ name: 'tenantml_rag_queries_total', help: 'RAG searches by mode', labelNames: ['mode'], registers: [registry] }),
  };
}
