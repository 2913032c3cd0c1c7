/**
 * Ingestion: parse (worker) → chunk → embed → one transaction for the document,
 * its chunks and their embeddings (replacing any previous version with the same
 * id) → the resident index is updated after commit. Nothing is searchable until
 * the transaction commits, and a failure anywhere before it stores nothing.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Db } from '../../db/db.js';
import { errors } from '../../errors.js';
import { chunkDocument, chunkEmbeddingText } from '../chunking/chunk-document.js';
import type { DocumentFormat } from '../parsing/parsed-document.js';
import { type DocumentRecord, deleteDocument, findDocument, findDocumentByHash, insertDocument } from '../storage/document-records.js';
import { bumpGeneration, findNamespace, lockNamespaceById } from '../storage/namespace-records.js';
import type { RagWorkerPool } from '../worker/rag-worker-pool.js';
import type { Embedders } from './embedders.js';
import type { NamespaceIndexes } from './namespace-indexes.js';

/** One document to ingest: raw bytes (an upload) or text (JSON). */
export interface IngestInput {
  /** Re-using an id replaces that document atomically; omitted → a new id. */
  id?: string;
  metadata?: Record<string, unknown>;
  bytes: Uint8Array;
  format?: DocumentFormat;
  contentType?: string;
  filename?: string;
}

/** A chunk as reported after ingestion (its text is readable with the document). */
export interface ChunkSummary {
  chunkId: string;
  index: number;
  page: number;
  headingPath: string[];
  chars: number;
}

/** What an ingestion did. */
export interface IngestResult {
  document: DocumentRecord;
  chunks: ChunkSummary[];
  /** A document with this id existed and was replaced. */
  replaced: boolean;
  /** Identical content was already stored; nothing was written and `document` is the existing one. */
  deduplicated: boolean;
}

/** Refuses (429 `quota_exceeded`) a write that would pass the tenant's storage quota. */
export type StorageCheck = (tenantId: string, addBytes: number) => Promise<void>;

/** Ids are short and safe in URLs and chunk ids. */
const DOCUMENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const MAX_METADATA_BYTES = 16 * 1024;
const EMBED_BATCH = 256;

/** The public id of a chunk: its document and position. */
export function chunkIdOf(documentId: string, ord: number): string {
  return `${documentId}#${ord}`;
}

/** Checks a client-supplied document id. */
export function checkDocumentId(id: string): void {
  if (!DOCUMENT_ID.test(id)) throw errors.validation("id: 1-200 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
}

/** Checks document metadata: a JSON object of bounded size. */
export function checkMetadata(metadata: unknown): Record<string, unknown> {
  if (metadata === undefined) return {};
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw errors.validation('metadata: expected a JSON object');
  if (JSON.stringify(metadata).length > MAX_METADATA_BYTES) throw errors.validation(`metadata: at most ${MAX_METADATA_BYTES} bytes of JSON`);
  return metadata as Record<string, unknown>;
}

/** Runs ingestions for every tenant; each one scoped by `withTenant`. */
export class DocumentIngestor {
  constructor(
    private readonly db: Db,
    private readonly pool: RagWorkerPool,
    private readonly embedders: Embedders,
    private readonly indexes: NamespaceIndexes,
    private readonly checkStorage: StorageCheck = async () => undefined,
  ) {}

  /** Ingests one document into the caller's namespace; `onProgress` gets 0–1. */
  async ingest(tenantId: string, namespace: string, input: IngestInput, onProgress: (p: number) => void = () => undefined): Promise<IngestResult> {
    if (input.id !== undefined) checkDocumentId(input.id);
    const metadata = checkMetadata(input.metadata);
    const ns = await this.db.withTenant(tenantId, (tx) => findNamespace(tx, namespace));

    const parsed = await this.pool.parse({
      bytes: input.bytes,
      ...(input.format ? { format: input.format } : {}),
      ...(input.contentType ? { contentType: input.contentType } : {}),
      ...(input.filename ? { filename: input.filename } : {}),
    });
    onProgress(0.2);
    const chunks = chunkDocument(parsed);
    if (chunks.length === 0) throw errors.validation('document contains no text to index');
    const contentHash = createHash('sha256').update(chunks.map((c) => c.contentHash).join('\n')).digest('hex');

    const existing = await this.db.withTenant(tenantId, async (tx) =>
      input.id === undefined ? findDocumentByHash(tx, ns.id, contentHash) : findDocument(tx, ns.id, input.id),
    );
    // Same content again: without an id it is the same document; with its own id it is a no-op unless the metadata changed.
    if (existing && existing.contentHash === contentHash && (input.id === undefined || canonicalJson(existing.metadata) === canonicalJson(metadata))) {
      return { document: existing, chunks: [], replaced: false, deduplicated: true };
    }

    // Counted in uploaded bytes (what `documents` reports to the quota); a replacement frees the old version's bytes.
    await this.checkStorage(tenantId, Math.max(0, input.bytes.byteLength - (input.id !== undefined && existing ? existing.sizeBytes : 0)));

    const vectors: Float32Array[] = [];
    const texts = chunks.map(chunkEmbeddingText);
    for (let i = 0; i < texts.length; i += EMBED_BATCH) {
      vectors.push(...(await this.embedders.embed(ns.embedder, texts.slice(i, i + EMBED_BATCH))));
      onProgress(0.2 + 0.7 * Math.min(1, (i + EMBED_BATCH) / texts.length));
    }

    // Resident at the pre-write generation, so the write can be applied in place after commit.
    await this.indexes.ensureResident(tenantId, ns);

    const documentId = input.id ?? `doc_${randomUUID().replaceAll('-', '')}`;
    const title = parsed.title ?? input.filename ?? null;
    const byOrd = new Map(chunks.map((c) => [c.index, c]));
    const written = await this.db.withTenant(tenantId, async (tx) => {
      const locked = await lockNamespaceById(tx, ns.id);
      if (!locked) throw errors.notFound('namespace', namespace);
      const removed = await deleteDocument(tx, ns.id, documentId);
      const { document, stored } = await insertDocument(
        tx,
        tenantId,
        ns.id,
        {
          id: documentId,
          title,
          format: parsed.format,
          contentType: input.contentType ?? null,
          filename: input.filename ?? null,
          metadata,
          contentHash,
          sizeBytes: input.bytes.byteLength,
          pageCount: parsed.pages.length,
        },
        chunks.map((c, i) => ({ ord: c.index, page: c.page, headingPath: c.headingPath, text: c.text, contentHash: c.contentHash, embedding: vectors[i]! })),
      );
      const generation = await bumpGeneration(tx, ns.id);
      return { document, stored, removed, generation };
    });

    await this.indexes.applyWrite(tenantId, ns.id, {
      generation: written.generation,
      removed: written.removed.labels,
      addedLabels: written.stored.map((s) => s.label),
      addedVectors: written.stored.map((s) => vectors[s.ord]!),
      addedTexts: written.stored.map((s) => byOrd.get(s.ord)!.text),
    });
    onProgress(1);
    return {
      document: written.document,
      chunks: written.stored
        .sort((a, b) => a.ord - b.ord)
        .map((s) => {
          const c = byOrd.get(s.ord)!;
          return { chunkId: chunkIdOf(documentId, s.ord), index: s.ord, page: c.page, headingPath: c.headingPath, chars: c.text.length };
        }),
      replaced: written.removed.existed,
      deduplicated: false,
    };
  }

  /** Deletes a document; it is unsearchable once this returns. */
  async deleteDocument(tenantId: string, namespace: string, documentId: string): Promise<void> {
    const ns = await this.db.withTenant(tenantId, (tx) => findNamespace(tx, namespace));
    const result = await this.db.withTenant(tenantId, async (tx) => {
      if (!(await lockNamespaceById(tx, ns.id))) throw errors.notFound('namespace', namespace);
      const removed = await deleteDocument(tx, ns.id, documentId);
      if (!removed.existed) throw errors.notFound('document', documentId);
      return { removed, generation: await bumpGeneration(tx, ns.id) };
    });
    await this.indexes.applyWrite(tenantId, ns.id, { generation: result.generation, removed: result.removed.labels, addedLabels: [], addedVectors: [] });
  }
}

/** JSON with object keys sorted (jsonb does not keep key order). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
