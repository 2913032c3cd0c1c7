/**
 * The RAG domain's entry point for routes: namespaces, documents, ingestion
 * (inline or as a job), search, answers and the OpenAI-compatible embeddings.
 * Every method takes the caller's tenant id first and reaches data only
 * through `withTenant`.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/db.js';
import { errors } from '../../errors.js';
import type { ArtifactStore } from '../../storage/artifact-store.js';
import { tenantArtifactPrefix } from '../../storage/artifact-key.js';
import { namespaceFromModel } from '../openai/openai-protocol.js';
import { chunksOfDocument, type DocumentRecord, documentBytesUsed, findDocument, listDocuments } from '../storage/document-records.js';
import {
  deleteNamespace,
  findNamespace,
  insertNamespace,
  listNamespaces,
  type NamespaceRecord,
  type NamespaceStats,
  namespaceStats,
} from '../storage/namespace-records.js';
import { chunkIdOf, type DocumentIngestor, type StorageCheck, type IngestInput, type IngestResult } from './document-ingestor.js';
import type { EmbedderRequest, Embedders } from './embedders.js';
import type { IngestJob, IngestJobs } from './ingest-jobs.js';
import type { NamespaceIndexes } from './namespace-indexes.js';
import type { RagSearch } from './rag-search.js';

/** A namespace as clients see it. */
export interface NamespaceView {
  name: string;
  embedder: NamespaceRecord['embedder'] & { id: string };
  dimension: number;
  generation: number;
  createdAt: string;
  updatedAt: string;
}

/** A namespace described with its contents. */
export interface NamespaceDescription extends NamespaceView {
  stats: NamespaceStats & { indexResident: boolean };
}

/** A stored document with its chunks' text, in order. */
export interface DocumentView extends DocumentRecord {
  chunks: Array<{ chunkId: string; index: number; page: number; headingPath: string[]; text: string }>;
}

/** Either the document is stored (201), or a job will store it (202). */
export type UploadOutcome = { kind: 'stored'; result: IngestResult } | { kind: 'queued'; job: IngestJob };

const NAMESPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Namespace names: safe in URLs and in `rag:<namespace>` model names. */
export function checkNamespaceName(name: string): void {
  if (!NAMESPACE_NAME.test(name)) throw errors.validation("name: 1-128 characters of letters, digits, '.', '_' or '-', starting with a letter or digit");
}

function view(ns: NamespaceRecord): NamespaceView {
  return {
    name: ns.name,
    embedder: { ...ns.embedder, id: ns.embedderId },
    dimension: ns.dimension,
    generation: ns.generation,
    createdAt: ns.createdAt,
    updatedAt: ns.updatedAt,
  };
}

export interface RagServiceOptions {
  db: Db;
  artifacts: ArtifactStore;
  embedders: Embedders;
  indexes: NamespaceIndexes;
  ingestor: DocumentIngestor;
  jobs: IngestJobs;
  search: RagSearch;
  /** Uploads larger than this go to a background job. */
  syncIngestMaxBytes: number;
  /** The storage quota check (429 `quota_exceeded`); none in tests that build the domain alone. */
  checkStorage?: StorageCheck;
}

/** Facade of the RAG domain for the HTTP layer. */
export class RagService {
  constructor(private readonly o: RagServiceOptions) {}

  get search(): RagSearch {
    return this.o.search;
  }

  get indexes(): NamespaceIndexes {
    return this.o.indexes;
  }

  get jobs(): IngestJobs {
    return this.o.jobs;
  }

  async createNamespace(tenantId: string, name: string, embedder?: EmbedderRequest): Promise<NamespaceView> {
    checkNamespaceName(name);
    const spec = this.o.embedders.resolve(embedder);
    const ns = await this.o.db.withTenant(tenantId, (tx) =>
      insertNamespace(tx, tenantId, { id: `ns_${randomUUID().replaceAll('-', '')}`, name, embedder: spec, embedderId: this.o.embedders.idOf(spec) }),
    );
    return view(ns);
  }

  async listNamespaces(tenantId: string, limit: number, cursor?: string): Promise<{ namespaces: NamespaceView[]; nextCursor: string | null }> {
    const rows = await this.o.db.withTenant(tenantId, (tx) => listNamespaces(tx, limit + 1, cursor));
    const namespaces = rows.slice(0, limit).map(view);
    return { namespaces, nextCursor: rows.length > limit ? (namespaces.at(-1)?.name ?? null) : null };
  }

  async describeNamespace(tenantId: string, name: string): Promise<NamespaceDescription> {
    const { ns, stats } = await this.o.db.withTenant(tenantId, async (tx) => {
      const found = await findNamespace(tx, name);
      return { ns: found, stats: await namespaceStats(tx, found.id) };
    });
    return { ...view(ns), stats: { ...stats, indexResident: this.o.indexes.isResident(tenantId, ns.id) } };
  }

  /** Deletes the namespace, its documents, chunks, jobs, uploads and index files. */
  async deleteNamespace(tenantId: string, name: string): Promise<{ deleted: NamespaceStats }> {
    const { ns, stats } = await this.o.db.withTenant(tenantId, async (tx) => {
      const found = await findNamespace(tx, name, true);
      const counted = await namespaceStats(tx, found.id);
      await deleteNamespace(tx, name);
      return { ns: found, stats: counted };
    });
    this.o.search.forgetNamespace(tenantId, ns.id);
    await this.o.indexes.dropNamespace(tenantId, ns.id);
    await this.o.artifacts.deletePrefix(`${tenantArtifactPrefix(tenantId)}rag-uploads/${ns.id}/`);
    return { deleted: stats };
  }

  /** Stores a document now (small) or queues a job for it (larger than the inline limit). */
  async upload(tenantId: string, namespace: string, input: IngestInput): Promise<UploadOutcome> {
    if (input.bytes.byteLength === 0) throw errors.validation('document is empty');
    if (input.bytes.byteLength > this.o.syncIngestMaxBytes) {
      // Refused before the upload is parked; the job checks again before the document becomes visible.
      await this.o.checkStorage?.(tenantId, input.bytes.byteLength);
      return { kind: 'queued', job: await this.o.jobs.enqueue(tenantId, namespace, input) };
    }
    return { kind: 'stored', result: await this.o.ingestor.ingest(tenantId, namespace, input) };
  }

  async getDocument(tenantId: string, namespace: string, documentId: string): Promise<DocumentView> {
    return this.o.db.withTenant(tenantId, async (tx) => {
      const ns = await findNamespace(tx, namespace);
      const doc = await findDocument(tx, ns.id, documentId);
      if (!doc) throw errors.notFound('document', documentId);
      const chunks = await chunksOfDocument(tx, ns.id, documentId);
      return { ...doc, chunks: chunks.map((c) => ({ chunkId: chunkIdOf(documentId, c.ord), index: c.ord, page: c.page, headingPath: c.headingPath, text: c.text })) };
    });
  }

  async listDocuments(tenantId: string, namespace: string, limit: number, cursor?: string): Promise<{ documents: DocumentRecord[]; nextCursor: string | null }> {
    const rows = await this.o.db.withTenant(tenantId, async (tx) => listDocuments(tx, (await findNamespace(tx, namespace)).id, limit + 1, cursor));
    const documents = rows.slice(0, limit);
    return { documents, nextCursor: rows.length > limit ? (documents.at(-1)?.id ?? null) : null };
  }

  async deleteDocument(tenantId: string, namespace: string, documentId: string): Promise<void> {
    await this.o.ingestor.deleteDocument(tenantId, namespace, documentId);
  }

  /** Bytes of the tenant's uploaded documents: the `documents` source of the storage quota. */
  async documentBytesUsed(tenantId: string): Promise<number> {
    return this.o.db.withTenant(tenantId, (tx) => documentBytesUsed(tx));
  }

  /**
   * Embeds texts for `/v1/embeddings`: `rag:<namespace>` uses that namespace's
   * embedder; `hash` or `hash-v1-<dimension>` the built-in one.
   */
  async embed(tenantId: string, model: string, texts: readonly string[]): Promise<{ model: string; vectors: Float32Array[] }> {
    let spec: NamespaceRecord['embedder'];
    if (model.startsWith('rag:')) {
      const name = namespaceFromModel(model);
      spec = (await this.o.db.withTenant(tenantId, (tx) => findNamespace(tx, name))).embedder;
    } else {
      const m = /^hash(?:-v1-(\d+))?$/.exec(model);
      if (!m) throw errors.validation(`model: use "rag:<namespace>" (that namespace's embedder) or "hash" / "hash-v1-<dimension>"`, { model });
      spec = this.o.embedders.resolve({ kind: 'hash', ...(m[1] ? { dimension: Number(m[1]) } : {}) });
    }
    return { model, vectors: await this.o.embedders.embed(spec, texts) };
  }
}
