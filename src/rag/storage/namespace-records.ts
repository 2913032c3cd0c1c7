/**
 * SQL for RAG namespaces. Every function takes a `Tx` opened by
 * `db.withTenant`, so row-level security scopes each statement to the caller.
 */
import type { Tx } from '../../db/db.js';
import { errors } from '../../errors.js';

/** What a namespace embeds with; stored with the namespace, never with a secret. */
export type EmbedderSpec = { kind: 'hash'; dimension: number } | { kind: 'openai'; baseUrl: string; model: string; dimension: number };

/** A namespace as stored. `generation` counts committed writes. */
export interface NamespaceRecord {
  id: string;
  name: string;
  embedder: EmbedderSpec;
  embedderId: string;
  dimension: number;
  generation: number;
  createdAt: string;
  updatedAt: string;
}

interface NamespaceRow {
  id: string;
  name: string;
  embedder: EmbedderSpec;
  embedder_id: string;
  dimension: number;
  generation: number | string;
  created_at: Date | string;
  updated_at: Date | string;
}

const COLUMNS = 'id, name, embedder, embedder_id, dimension, generation, created_at, updated_at';

/** ISO-8601 UTC from what either driver returns for a timestamptz. */
export function isoTime(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function fromRow(row: NamespaceRow): NamespaceRecord {
  return {
    id: row.id,
    name: row.name,
    embedder: row.embedder,
    embedderId: row.embedder_id,
    dimension: Number(row.dimension),
    generation: Number(row.generation),
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}

/** Inserts a namespace; a taken name is a 409. */
export async function insertNamespace(tx: Tx, tenantId: string, ns: { id: string; name: string; embedder: EmbedderSpec; embedderId: string }): Promise<NamespaceRecord> {
  const res = await tx.query<NamespaceRow>(
    `insert into rag_namespaces (tenant_id, id, name, embedder, embedder_id, dimension) values ($1, $2, $3, $4, $5, $6)
     on conflict (tenant_id, name) do nothing returning ${COLUMNS}`,
    [tenantId, ns.id, ns.name, JSON.stringify(ns.embedder), ns.embedderId, ns.embedder.dimension],
  );
  if (res.rowCount === 0) throw errors.conflict(`namespace '${ns.name}' already exists`);
  return fromRow(res.rows[0]!);
}

/** The namespace called `name`, or a 404 (also when it belongs to another tenant: RLS hides it). */
export async function findNamespace(tx: Tx, name: string, lock = false): Promise<NamespaceRecord> {
  const res = await tx.query<NamespaceRow>(`select ${COLUMNS} from rag_namespaces where name = $1${lock ? ' for update' : ''}`, [name]);
  const row = res.rows[0];
  if (!row) throw errors.notFound('namespace', name);
  return fromRow(row);
}

/** The namespace with this id, locked for a write, or undefined. */
export async function lockNamespaceById(tx: Tx, id: string): Promise<NamespaceRecord | undefined> {
  const res = await tx.query<NamespaceRow>(`select ${COLUMNS} from rag_namespaces where id = $1 for update`, [id]);
  return res.rows[0] ? fromRow(res.rows[0]) : undefined;
}

/** Namespaces by name, after `cursor`. */
export async function listNamespaces(tx: Tx, limit: number, cursor?: string): Promise<NamespaceRecord[]> {
  const res = await tx.query<NamespaceRow>(
    `select ${COLUMNS} from rag_namespaces where ($1::text is null or name > $1) order by name limit $2`,
    [cursor ?? null, limit],
  );
  return res.rows.map(fromRow);
}

/** Counts and sizes of a namespace's contents. */
export interface NamespaceStats {
  documents: number;
  chunks: number;
  /** Bytes of the uploaded documents. */
  documentBytes: number;
  /** Bytes of chunk text and embeddings stored. */
  storedBytes: number;
}

/** Counts documents and chunks and sums their sizes. */
export async function namespaceStats(tx: Tx, namespaceId: string): Promise<NamespaceStats> {
  const docs = await tx.query<{ n: number | string; bytes: number | string | null }>(
    'select count(*) as n, sum(size_bytes) as bytes from rag_documents where namespace_id = $1',
    [namespaceId],
  );
  const chunks = await tx.query<{ n: number | string; bytes: number | string | null }>(
    'select count(*) as n, sum(octet_length(text) + octet_length(embedding)) as bytes from rag_chunks where namespace_id = $1',
    [namespaceId],
  );
  return {
    documents: Number(docs.rows[0]?.n ?? 0),
    documentBytes: Number(docs.rows[0]?.bytes ?? 0),
    chunks: Number(chunks.rows[0]?.n ?? 0),
    storedBytes: Number(chunks.rows[0]?.bytes ?? 0),
  };
}

/** Bumps the write generation (inside the writing transaction) and returns the new one. */
export async function bumpGeneration(tx: Tx, namespaceId: string): Promise<number> {
  const res = await tx.query<{ generation: number | string }>(
    'update rag_namespaces set generation = generation + 1, updated_at = now() where id = $1 returning generation',
    [namespaceId],
  );
  if (!res.rows[0]) throw errors.notFound('namespace', namespaceId);
  return Number(res.rows[0].generation);
}

/** Deletes a namespace and everything in it (chunks, documents, jobs cascade). */
export async function deleteNamespace(tx: Tx, name: string): Promise<NamespaceRecord> {
  const ns = await findNamespace(tx, name, true);
  // Children first keeps the cascade cheap and explicit.
  await tx.query('delete from rag_chunks where namespace_id = $1', [ns.id]);
  await tx.query('delete from rag_documents where namespace_id = $1', [ns.id]);
  await tx.query('delete from rag_ingest_jobs where namespace_id = $1', [ns.id]);
  await tx.query('delete from rag_namespaces where id = $1', [ns.id]);
  return ns;
}
