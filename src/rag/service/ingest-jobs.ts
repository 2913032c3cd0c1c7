/**
 * Background ingestion of large uploads. The bytes wait in the artifact store
 * under the tenant's prefix; the job row (`rag_ingest_jobs`, under RLS) holds
 * state and progress, so a job survives a restart: on start, queued jobs and
 * jobs stuck in `running` are picked up again. Every job carries its tenant and
 * re-enters `withTenant` before touching data.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/db.js';
import { errors, isAppError } from '../../errors.js';
import type { ArtifactStore } from '../../storage/artifact-store.js';
import { artifactKey } from '../../storage/artifact-key.js';
import type { DocumentFormat } from '../parsing/parsed-document.js';
import { findNamespace, isoTime } from '../storage/namespace-records.js';
import { checkDocumentId, checkMetadata, type DocumentIngestor, type IngestInput } from './document-ingestor.js';

/** A job as clients see it. */
export interface IngestJob {
  id: string;
  namespace: string;
  documentId: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: number;
  error?: { code: string; message: string };
  result?: { documentId: string; chunks: number; replaced: boolean; deduplicated: boolean };
  createdAt: string;
  updatedAt: string;
}

interface JobRow {
  tenant_id: string;
  id: string;
  namespace_id: string;
  document_id: string;
  state: IngestJob['state'];
  progress: number;
  upload_key: string;
  request: { namespace: string; metadata?: Record<string, unknown>; format?: DocumentFormat; contentType?: string; filename?: string; explicitId: boolean };
  result: IngestJob['result'] | null;
  error: IngestJob['error'] | null;
  created_at: Date | string;
  updated_at: Date | string;
}

/** Jobs stuck in `running` this long are assumed orphaned by a crash and run again. */
const STALE_RUNNING = '10 minutes';

function toJob(row: JobRow): IngestJob {
  return {
    id: row.id,
    namespace: row.request.namespace,
    documentId: row.document_id,
    state: row.state,
    progress: Number(row.progress),
    ...(row.error ? { error: row.error } : {}),
    ...(row.result ? { result: row.result } : {}),
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}

/** Queues and runs ingest jobs in this process, one at a time. */
export class IngestJobs {
  readonly #queue: Array<{ tenantId: string; jobId: string }> = [];
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(
    private readonly db: Db,
    private readonly artifacts: ArtifactStore,
    private readonly ingestor: DocumentIngestor,
    private readonly log: (level: 'warn' | 'error', message: string, details: Record<string, unknown>) => void = () => undefined,
  ) {}

  /** Stores the upload and queues a job; returns it in state `queued`. */
  async enqueue(tenantId: string, namespace: string, input: IngestInput): Promise<IngestJob> {
    if (input.id !== undefined) checkDocumentId(input.id);
    const metadata = checkMetadata(input.metadata);
    const ns = await this.db.withTenant(tenantId, (tx) => findNamespace(tx, namespace));
    const jobId = `job_${randomUUID().replaceAll('-', '')}`;
    const documentId = input.id ?? `doc_${randomUUID().replaceAll('-', '')}`;
    const uploadKey = artifactKey({ tenantId, kind: 'rag-uploads', name: ns.id, version: jobId, file: 'upload' });
    await this.artifacts.put(uploadKey, input.bytes);
    const request: JobRow['request'] = {
      namespace,
      metadata,
      explicitId: input.id !== undefined,
      ...(input.format ? { format: input.format } : {}),
      ...(input.contentType ? { contentType: input.contentType } : {}),
      ...(input.filename ? { filename: input.filename } : {}),
    };
    const row = await this.db.withTenant(tenantId, async (tx) => {
      const res = await tx.query<JobRow>(
        `insert into rag_ingest_jobs (tenant_id, id, namespace_id, document_id, state, upload_key, request)
         values ($1, $2, $3, $4, 'queued', $5, $6) returning *`,
        [tenantId, jobId, ns.id, documentId, uploadKey, JSON.stringify(request)],
      );
      return res.rows[0]!;
    });
    this.#push(tenantId, jobId);
    return toJob(row);
  }

  /** A job of the caller's namespace, or a 404. */
  async get(tenantId: string, namespace: string, jobId: string): Promise<IngestJob> {
    return this.db.withTenant(tenantId, async (tx) => {
      const ns = await findNamespace(tx, namespace);
      const res = await tx.query<JobRow>('select * from rag_ingest_jobs where namespace_id = $1 and id = $2', [ns.id, jobId]);
      if (!res.rows[0]) throw errors.notFound('job', jobId);
      return toJob(res.rows[0]);
    });
  }

  /** Picks up jobs left by a previous run (system work across tenants: it only reads ids). */
  async resume(): Promise<number> {
    const rows = await this.db.withSystem((tx) =>
      tx.query<{ tenant_id: string; id: string }>(
        `select tenant_id, id from rag_ingest_jobs
          where state = 'queued' or (state = 'running' and updated_at < now() - interval '${STALE_RUNNING}')
          order by created_at`,
      ),
    );
    for (const r of rows.rows) this.#push(r.tenant_id, r.id);
    return rows.rowCount;
  }

  /** Resolves when every queued job has finished (tests). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    await this.#running;
  }

  #push(tenantId: string, jobId: string): void {
    if (this.#closed) return;
    this.#queue.push({ tenantId, jobId });
    if (!this.#running) {
      this.#running = this.#drain().finally(() => {
        this.#running = undefined;
      });
    }
  }

  async #drain(): Promise<void> {
    for (let next = this.#queue.shift(); next && !this.#closed; next = this.#queue.shift()) {
      await this.#run(next.tenantId, next.jobId).catch((err: unknown) =>
        this.log('error', 'ingest job crashed', { tenantId: next!.tenantId, jobId: next!.jobId, error: String(err) }),
      );
    }
  }

  async #run(tenantId: string, jobId: string): Promise<void> {
    // Claim: only one runner moves a job out of queued (or out of a stale running).
    const claimed = await this.db.withTenant(tenantId, (tx) =>
      tx.query<JobRow>(
        `update rag_ingest_jobs set state = 'running', attempts = attempts + 1, updated_at = now()
          where id = $1 and (state = 'queued' or (state = 'running' and updated_at < now() - interval '${STALE_RUNNING}'))
          returning *`,
        [jobId],
      ),
    );
    const job = claimed.rows[0];
    if (!job) return;
    const update = (sql: string, params: unknown[]) => this.db.withTenant(tenantId, (tx) => tx.query(sql, [jobId, ...params]));
    let lastReported = 0;
    try {
      const bytes = await this.artifacts.get(job.upload_key);
      if (!bytes) throw errors.notFound('upload', jobId);
      const r = job.request;
      const result = await this.ingestor.ingest(
        tenantId,
        r.namespace,
        {
          bytes,
          metadata: r.metadata ?? {},
          id: job.document_id,
          ...(r.format ? { format: r.format } : {}),
          ...(r.contentType ? { contentType: r.contentType } : {}),
          ...(r.filename ? { filename: r.filename } : {}),
        },
        (p) => {
          if (p - lastReported < 0.1 || p >= 1) return;
          lastReported = p;
          void update(`update rag_ingest_jobs set progress = $2, updated_at = now() where id = $1 and state = 'running'`, [p]).catch(() => undefined);
        },
      );
      const summary = { documentId: result.document.id, chunks: result.chunks.length, replaced: result.replaced, deduplicated: result.deduplicated };
      await update(`update rag_ingest_jobs set state = 'succeeded', progress = 1, result = $2, updated_at = now() where id = $1`, [JSON.stringify(summary)]);
    } catch (err) {
      const error = isAppError(err) ? { code: err.code, message: err.message } : { code: 'internal', message: 'ingestion failed unexpectedly' };
      if (!isAppError(err)) this.log('error', 'ingest job failed', { tenantId, jobId, error: String(err) });
      await update(`update rag_ingest_jobs set state = 'failed', error = $2, updated_at = now() where id = $1`, [JSON.stringify(error)]).catch(() => undefined);
    } finally {
      await this.artifacts.delete(job.upload_key).catch(() => false);
    }
  }
}
