/**
 * SQL for documents and chunks. Every function takes a `Tx` opened by
 * `db.withTenant`: row-level security scopes each statement to the caller, so
 * a label or id of another tenant simply matches nothing.
 */
import type { Tx } from '../../db/db.js';
import type { DocumentFormat } from '../parsing/parsed-document.js';
import { encodeEmbedding } from './embedding-codec.js';
import { isoTime } from './namespace-records.js';

/** A stored document (without its text: that lives in its chunks). */
export interface DocumentRecord {
  id: string;
  title: string | null;
  format: DocumentFormat;
  contentType: string | null;
  filename: string | null;
  metadata: Record<string, unknown>;
  contentHash: string;
  sizeBytes: number;
  pageCount: number;
  chunkCount: number;
  createdAt: string;
  updatedAt: string;
}

/** What a write stores for a document: the record but what the database counts and stamps. */
export type DocumentWrite = Omit<DocumentRecord, 'chunkCount' | 'createdAt' | 'updatedAt'>;

/** One chunk to store, with its embedding. */
export interface ChunkWrite {
  ord: number;
  page: number;
  headingPath: string[];
  text: string;
  contentHash: string;
  embedding: Float32Array;
}

/** A chunk read back for an answer or a result. */
export interface ChunkRecord {
  label: number;
  documentId: string;
  ord: number;
  page: number;
  headingPath: string[];
  text: string;
  metadata: Record<string, unknown>;
  documentTitle: string | null;
}

interface DocumentRow {
  id: string;
  title: string | null;
  format: DocumentFormat;
  content_type: string | null;
  filename: string | null;
  metadata: Record<string, unknown>;
  content_hash: string;
  size_bytes: number | string;
  page_count: number;
  chunk_count: number;
  created_at: Date | string;
  updated_at: Date | string;
}

const DOC_COLUMNS = 'id, title, format, content_type, filename, metadata, content_hash, size_bytes, page_count, chunk_count, created_at, updated_at';
/** Rows per insert statement (7 parameters each, well under Postgres' 65,535). */
const CHUNK_BATCH = 500;
/** Documents per insert statement (9 parameters each). */
const DOCUMENT_BATCH = 1_000;

function documentFromRow(row: DocumentRow): DocumentRecord {
  return {
    id: row.id,
    title: row.title,
    format: row.format,
    contentType: row.content_type,
    filename: row.filename,
    metadata: row.metadata,
    contentHash: row.content_hash,
    sizeBytes: Number(row.size_bytes),
    pageCount: Number(row.page_count),
    chunkCount: Number(row.chunk_count),
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}

/** A document of the namespace, or undefined. */
export async function findDocument(tx: Tx, namespaceId: string, id: string): Promise<DocumentRecord | undefined> {
  const res = await tx.query<DocumentRow>(`select ${DOC_COLUMNS} from rag_documents where namespace_id = $1 and id = $2`, [namespaceId, id]);
  return res.rows[0] ? documentFromRow(res.rows[0]) : undefined;
}

/** Another document of the namespace with the same content, if any (dedupe). */
export async function findDocumentByHash(tx: Tx, namespaceId: string, contentHash: string): Promise<DocumentRecord | undefined> {
  const res = await tx.query<DocumentRow>(
    `select ${DOC_COLUMNS} from rag_documents where namespace_id = $1 and content_hash = $2 order by created_at limit 1`,
    [namespaceId, contentHash],
  );
  return res.rows[0] ? documentFromRow(res.rows[0]) : undefined;
}

/** Documents of the namespace by id, after `cursor`. */
export async function listDocuments(tx: Tx, namespaceId: string, limit: number, cursor?: string): Promise<DocumentRecord[]> {
  const res = await tx.query<DocumentRow>(
    `select ${DOC_COLUMNS} from rag_documents where namespace_id = $1 and ($2::text is null or id > $2) order by id limit $3`,
    [namespaceId, cursor ?? null, limit],
  );
  return res.rows.map(documentFromRow);
}

/** Deletes a document's chunks and the document; returns the labels removed (empty if it did not exist). */
export async function deleteDocument(tx: Tx, namespaceId: string, id: string): Promise<{ existed: boolean; labels: number[] }> {
  const chunks = await tx.query<{ label: number | string }>('delete from rag_chunks where namespace_id = $1 and document_id = $2 returning label', [namespaceId, id]);
  const doc = await tx.query('delete from rag_documents where namespace_id = $1 and id = $2', [namespaceId, id]);
  return { existed: doc.rowCount > 0, labels: chunks.rows.map((r) => Number(r.label)) };
}

/** A document to insert together with its chunks. */
export interface DocumentWithChunks {
  doc: DocumentWrite;
  chunks: readonly ChunkWrite[];
}

/** A document as stored, with the labels given to its chunks. */
export interface StoredDocument {
  document: DocumentRecord;
  stored: Array<{ label: number; ord: number }>;
}

/**
 * Inserts a document and its chunks (the caller has deleted any previous
 * version in the same transaction). Identical chunks within the document are
 * stored once. Returns the stored document and the labels given to the chunks.
 */
export async function insertDocument(tx: Tx, tenantId: string, namespaceId: string, doc: DocumentWrite, chunks: readonly ChunkWrite[]): Promise<StoredDocument> {
  const [stored] = await insertDocuments(tx, tenantId, namespaceId, [{ doc, chunks }]);
  return stored!;
}

/**
 * Inserts new documents and their chunks with few statements: documents
 * `DOCUMENT_BATCH` per insert, chunks `CHUNK_BATCH` per insert across
 * document boundaries, chunk counts set in one update. Same semantics as
 * `insertDocument` for each document; results in input order.
 */
export async function insertDocuments(tx: Tx, tenantId: string, namespaceId: string, docs: readonly DocumentWithChunks[]): Promise<StoredDocument[]> {
  for (let start = 0; start < docs.length; start += DOCUMENT_BATCH) {
    const params: unknown[] = [tenantId, namespaceId];
    const values = docs.slice(start, start + DOCUMENT_BATCH).map(({ doc }) => {
      const p = params.length;
      params.push(doc.id, doc.title, doc.format, doc.contentType, doc.filename, JSON.stringify(doc.metadata), doc.contentHash, doc.sizeBytes, doc.pageCount);
      return `($1, $2, ${Array.from({ length: 9 }, (_, i) => `$${p + i + 1}`).join(', ')}, 0)`;
    });
    await tx.query(
      `insert into rag_documents (tenant_id, namespace_id, id, title, format, content_type, filename, metadata, content_hash, size_bytes, page_count, chunk_count)
       values ${values.join(', ')}`,
      params,
    );
  }
  const rows = docs.flatMap(({ doc, chunks }) => chunks.map((chunk) => ({ documentId: doc.id, chunk })));
  const storedByDocument = new Map<string, Array<{ label: number; ord: number }>>(docs.map(({ doc }) => [doc.id, []]));
  for (let start = 0; start < rows.length; start += CHUNK_BATCH) {
    const params: unknown[] = [tenantId, namespaceId];
    const values = rows.slice(start, start + CHUNK_BATCH).map(({ documentId, chunk: c }) => {
      const p = params.length;
      params.push(documentId, c.ord, c.page, c.headingPath, c.text, c.contentHash, encodeEmbedding(c.embedding));
      return `($1, $2, $${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}::text[], $${p + 5}, $${p + 6}, $${p + 7})`;
    });
    const res = await tx.query<{ label: number | string; ord: number; document_id: string }>(
      `insert into rag_chunks (tenant_id, namespace_id, document_id, ord, page, heading_path, text, content_hash, embedding)
       values ${values.join(', ')}
       on conflict (tenant_id, namespace_id, document_id, content_hash) do nothing returning label, ord, document_id`,
      params,
    );
    for (const r of res.rows) storedByDocument.get(r.document_id)?.push({ label: Number(r.label), ord: Number(r.ord) });
  }
  const ids = docs.map(({ doc }) => doc.id);
  const updated = await tx.query<DocumentRow>(
    `update rag_documents d set chunk_count = c.n
       from unnest($2::text[], $3::int[]) as c(id, n)
      where d.namespace_id = $1 and d.id = c.id
      returning ${DOC_COLUMNS.split(', ').map((c) => `d.${c}`).join(', ')}`,
    [namespaceId, ids, ids.map((id) => storedByDocument.get(id)!.length)],
  );
  const byId = new Map(updated.rows.map((r) => [r.id, documentFromRow(r)]));
  return ids.map((id) => ({ document: byId.get(id)!, stored: storedByDocument.get(id)! }));
}

/**
 * The namespace's generation and the chunks with these labels, in one
 * statement (a query's re-read under RLS is its only database round trip).
 * `generation` is undefined when the namespace is gone.
 */
export async function chunksByLabelWithGeneration(tx: Tx, namespaceId: string, labels: readonly number[]): Promise<{ generation: number | undefined; chunks: ChunkRecord[] }> {
  const res = await tx.query<{
    generation: number | string;
    label: number | string | null;
    document_id: string;
    ord: number;
    page: number;
    heading_path: string[];
    text: string;
    metadata: Record<string, unknown>;
    title: string | null;
  }>(
    `select n.generation, c.label, c.document_id, c.ord, c.page, c.heading_path, c.text, d.metadata, d.title
       from rag_namespaces n
       left join (rag_chunks c join rag_documents d on d.tenant_id = c.tenant_id and d.namespace_id = c.namespace_id and d.id = c.document_id)
         on c.tenant_id = n.tenant_id and c.namespace_id = n.id and c.label = any($2::bigint[])
      where n.id = $1`,
    [namespaceId, labels],
  );
  const first = res.rows[0];
  if (!first) return { generation: undefined, chunks: [] };
  const chunks = res.rows
    .filter((r) => r.label !== null)
    .map((r) => ({
      label: Number(r.label),
      documentId: r.document_id,
      ord: Number(r.ord),
      page: Number(r.page),
      headingPath: r.heading_path ?? [],
      text: r.text,
      metadata: r.metadata,
      documentTitle: r.title,
    }));
  return { generation: Number(first.generation), chunks };
}

/** Chunks of the document in order (for reading a document back). */
export async function chunksOfDocument(tx: Tx, namespaceId: string, documentId: string): Promise<Array<{ label: number; ord: number; page: number; headingPath: string[]; text: string }>> {
  const res = await tx.query<{ label: number | string; ord: number; page: number; heading_path: string[]; text: string }>(
    'select label, ord, page, heading_path, text from rag_chunks where namespace_id = $1 and document_id = $2 order by ord',
    [namespaceId, documentId],
  );
  return res.rows.map((r) => ({ label: Number(r.label), ord: Number(r.ord), page: Number(r.page), headingPath: r.heading_path ?? [], text: r.text }));
}

/**
 * Full-text search. `websearch_to_tsquery` accepts any user text (quotes, `or`,
 * `-word`) without raising a syntax error. Its terms are ANDed, which finds
 * nothing for most natural-language questions, so a plain multi-word query is
 * also matched with its terms ORed: chunks with every term rank first (+1),
 * then by `ts_rank_cd`. Queries with phrases or negations keep their strict
 * meaning. Optionally limited to some documents.
 */
export async function lexicalSearch(
  tx: Tx,
  namespaceId: string,
  query: string,
  limit: number,
  documentIds?: readonly string[],
): Promise<Array<{ id: number; score: number }>> {
  const res = await tx.query<{ label: number | string; rank: number }>(
    `with strict as (select websearch_to_tsquery('english', $2) as q),
          q as (select s.q as strict, case when s.q::text ~ '[!<]' then s.q else replace(s.q::text, ' & ', ' | ')::tsquery end as loose from strict s)
     select c.label, ts_rank_cd(c.tsv, q.loose) + case when c.tsv @@ q.strict then 1 else 0 end as rank
       from rag_chunks c, q
      where c.namespace_id = $1 and c.tsv @@ q.loose and ($4::text[] is null or c.document_id = any($4::text[]))
      order by rank desc, c.label
      limit $3`,
    [namespaceId, query, limit, documentIds ?? null],
  );
  return res.rows.map((r) => ({ id: Number(r.label), score: Number(r.rank) }));
}

/** Metadata of every document in the namespace (for metadata filters). */
export async function documentMetadata(tx: Tx, namespaceId: string): Promise<Array<{ id: string; metadata: Record<string, unknown> }>> {
  const res = await tx.query<{ id: string; metadata: Record<string, unknown> }>('select id, metadata from rag_documents where namespace_id = $1', [namespaceId]);
  return res.rows;
}

/** Labels of the chunks of these documents. */
export async function labelsOfDocuments(tx: Tx, namespaceId: string, documentIds: readonly string[]): Promise<number[]> {
  if (documentIds.length === 0) return [];
  const res = await tx.query<{ label: number | string }>('select label from rag_chunks where namespace_id = $1 and document_id = any($2::text[])', [
    namespaceId,
    documentIds,
  ]);
  return res.rows.map((r) => Number(r.label));
}

/** Every label, embedding and text of the namespace, for an index rebuild. */
export async function namespaceEmbeddings(tx: Tx, namespaceId: string): Promise<Array<{ label: number; embedding: Uint8Array; text: string }>> {
  const res = await tx.query<{ label: number | string; embedding: Uint8Array; text: string }>(
    'select label, embedding, text from rag_chunks where namespace_id = $1 order by label',
    [namespaceId],
  );
  return res.rows.map((r) => ({ label: Number(r.label), embedding: r.embedding, text: r.text }));
}

/** Every label and text of the namespace, for a lexical index rebuild. */
export async function namespaceTexts(tx: Tx, namespaceId: string): Promise<Array<{ label: number; text: string }>> {
  const res = await tx.query<{ label: number | string; text: string }>('select label, text from rag_chunks where namespace_id = $1 order by label', [namespaceId]);
  return res.rows.map((r) => ({ label: Number(r.label), text: r.text }));
}

/** Bytes of the tenant's uploaded documents (all namespaces), for the storage quota. */
export async function documentBytesUsed(tx: Tx): Promise<number> {
  const res = await tx.query<{ bytes: number | string | null }>('select sum(size_bytes) as bytes from rag_documents');
  return Number(res.rows[0]?.bytes ?? 0);
}
