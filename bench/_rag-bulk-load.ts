/**
 * Benchmark setup at scale: a tenant's documents written in one transaction
 * under `withTenant` (RLS applies as for any upload) with batched inserts and
 * one generation bump, instead of one upload per document. Chunks are the
 * paragraphs as given (each under the chunker's 1,000-character target, so the
 * chunker would keep them whole), embedded in the worker pool with the
 * namespace's hash embedder. As in ingestion, the (empty) index is made
 * resident before the write and updated in place after the commit, then
 * written back to the artifact store (or on eviction).
 */
import type { Db } from '../src/db/db.js';
import { contentHash } from '../src/rag/chunking/content-hash.js';
import { chunkEmbeddingText } from '../src/rag/chunking/chunk-document.js';
import type { NamespaceIndexes } from '../src/rag/service/namespace-indexes.js';
import type { RagService } from '../src/rag/service/rag-service.js';
import { type DocumentWithChunks, insertDocuments } from '../src/rag/storage/document-records.js';
import { bumpGeneration, findNamespace, lockNamespaceById } from '../src/rag/storage/namespace-records.js';
import type { RagWorkerPool } from '../src/rag/worker/rag-worker-pool.js';

/** Texts per embedding task, so both worker threads get work. */
const EMBED_TASK = 500;

/** A namespace's documents, each a list of chunk-sized paragraphs, embedded and ready to write. */
export interface PreparedNamespace {
  documents: DocumentWithChunks[];
  chunks: number;
}

/** Embeds the paragraphs (worker threads) and shapes the rows; no database work. */
export async function prepareNamespace(pool: RagWorkerPool, dimension: number, documents: readonly string[][]): Promise<PreparedNamespace> {
  const texts = documents.flat();
  const tasks: Array<Promise<Float32Array[]>> = [];
  for (let i = 0; i < texts.length; i += EMBED_TASK) tasks.push(pool.embedHash(texts.slice(i, i + EMBED_TASK).map((text) => chunkEmbeddingText({ headingPath: [], text })), dimension));
  const vectors = (await Promise.all(tasks)).flat();
  let at = 0;
  const prepared = documents.map((paragraphs, d): DocumentWithChunks => {
    const chunks = paragraphs.map((text, ord) => ({ ord, page: 1, headingPath: [], text, contentHash: contentHash(text), embedding: vectors[at++]! }));
    const bytes = paragraphs.reduce((n, p) => n + Buffer.byteLength(p) + 2, 0);
    return {
      doc: { id: `doc-${d}`, title: null, format: 'text', contentType: 'text/plain', filename: null, metadata: { d }, contentHash: contentHash(chunks.map((c) => c.contentHash).join('\n')), sizeBytes: bytes, pageCount: 1 },
      chunks,
    };
  });
  return { documents: prepared, chunks: texts.length };
}

/** Creates the namespace and writes everything in one transaction with one generation bump. */
export async function writeNamespace(db: Db, rag: RagService, indexes: NamespaceIndexes, tenantId: string, namespace: string, prepared: PreparedNamespace): Promise<void> {
  await rag.createNamespace(tenantId, namespace);
  const ns = await db.withTenant(tenantId, (tx) => findNamespace(tx, namespace));
  await indexes.ensureResident(tenantId, ns);
  const written = await db.withTenant(tenantId, async (tx) => {
    await lockNamespaceById(tx, ns.id);
    const stored = await insertDocuments(tx, tenantId, ns.id, prepared.documents);
    return { namespaceId: ns.id, stored, generation: await bumpGeneration(tx, ns.id) };
  });
  const added = written.stored.flatMap((s, d) => s.stored.map(({ label, ord }) => ({ label, chunk: prepared.documents[d]!.chunks[ord]! })));
  await indexes.applyWrite(tenantId, written.namespaceId, {
    generation: written.generation,
    removed: [],
    addedLabels: added.map((a) => a.label),
    addedVectors: added.map((a) => a.chunk.embedding),
    addedTexts: added.map((a) => a.chunk.text),
  });
}
