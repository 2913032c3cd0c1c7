/** Builds the RAG domain's services from the platform's shared pieces. */
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import type { LogLevel, RagConfig } from '../../config.js';
import type { Db } from '../../db/db.js';
import type { InvalidationBus } from '../../serving/invalidation-bus.js';
import type { ArtifactStore } from '../../storage/artifact-store.js';
import { createChatClient } from '../answers/chat-client.js';
import { createRagWorkerPool } from '../worker/rag-worker-pool.js';
import { DocumentIngestor, type StorageCheck } from './document-ingestor.js';
import { Embedders } from './embedders.js';
import { IngestJobs } from './ingest-jobs.js';
import { NamespaceIndexes } from './namespace-indexes.js';
import { createRagMetrics } from './rag-metrics.js';
import { RagSearch } from './rag-search.js';
import { RagService } from './rag-service.js';

/** What the RAG domain needs from the platform. */
export interface RagDependencies {
  config: RagConfig;
  logLevel: LogLevel;
  db: Db;
  artifacts: ArtifactStore;
  /** Where index files go: the same backend, sealed with a checksum that only has to catch damage (they are rebuilt from Postgres). */
  indexArtifacts: ArtifactStore;
  bus: InvalidationBus;
  metrics: Registry;
  /** Overrides for tests and benchmarks. */
  hnswThreshold?: number;
  writeBackDelayMs?: number;
  /** The storage quota check, called before a document becomes visible. */
  checkStorage?: StorageCheck;
}

/** The RAG domain, built. */
export interface RagDomain {
  service: RagService;
  indexes: NamespaceIndexes;
  jobs: IngestJobs;
  /** Purge store: the tenant's resident indexes and index files. */
  purgeTenant(tenantId: string): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** Creates the worker pool, index cache, ingestion, search and jobs; resumes unfinished jobs. */
export function createRag(deps: RagDependencies): RagDomain {
  const logger = pino({ name: 'rag', level: deps.logLevel }, pino.destination(2));
  const log = (level: 'warn' | 'error', message: string, details: Record<string, unknown>) => logger[level](details, message);
  const metrics = createRagMetrics(deps.metrics);
  const pool = createRagWorkerPool({ maxThreads: deps.config.workerThreads });
  const embedders = new Embedders(deps.config.embeddings, pool);
  const indexes = new NamespaceIndexes({
    db: deps.db,
    artifacts: deps.indexArtifacts,
    pool,
    bus: deps.bus,
    metrics,
    cacheBytes: deps.config.indexCacheBytes,
    log,
    ...(deps.hnswThreshold === undefined ? {} : { hnswThreshold: deps.hnswThreshold }),
    ...(deps.writeBackDelayMs === undefined ? {} : { writeBackDelayMs: deps.writeBackDelayMs }),
  });
  const ingestor = new DocumentIngestor(deps.db, pool, embedders, indexes, deps.checkStorage);
  const jobs = new IngestJobs(deps.db, deps.artifacts, ingestor, log);
  const chat = deps.config.chat
    ? createChatClient({ baseUrl: deps.config.chat.baseUrl, model: deps.config.chat.model, ...(deps.config.chat.apiKey ? { apiKey: deps.config.chat.apiKey } : {}) })
    : undefined;
  const search = new RagSearch({ db: deps.db, bus: deps.bus, embedders, indexes, metrics, chat, log });
  const service = new RagService({
    db: deps.db,
    artifacts: deps.artifacts,
    embedders,
    indexes,
    ingestor,
    jobs,
    search,
    syncIngestMaxBytes: deps.config.syncIngestMaxBytes,
    ...(deps.checkStorage ? { checkStorage: deps.checkStorage } : {}),
  });
  jobs.resume().catch((err: unknown) => log('error', 'could not resume ingest jobs', { error: String(err) }));
  return {
    service,
    indexes,
    jobs,
    purgeTenant: (tenantId) => indexes.purgeTenant(tenantId),
    async close() {
      await jobs.close();
      search.close();
      await indexes.close();
      await pool.close();
    },
  };
}
