-- RAG: namespaces, documents, chunks with their embeddings, and ingest jobs.
-- Postgres is the source of truth; the vector indexes in the artifact store are
-- caches rebuilt from `rag_chunks` whenever they are missing, stale or corrupt.

-- `generation` counts committed writes to the namespace: a persisted index
-- records the generation it reflects, so a stale one is never served.
create table rag_namespaces (
  tenant_id text not null references tenants (id),
  id text not null,
  name text not null,
  embedder jsonb not null,
  embedder_id text not null,
  dimension integer not null check (dimension between 1 and 8192),
  generation bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, name)
);
select tenantml_protect_tenant_table('rag_namespaces');

create table rag_documents (
  tenant_id text not null,
  namespace_id text not null,
  id text not null,
  title text,
  format text not null check (format in ('pdf', 'text', 'markdown', 'html')),
  content_type text,
  filename text,
  metadata jsonb not null default '{}',
  content_hash text not null,
  size_bytes bigint not null,
  page_count integer not null,
  chunk_count integer not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, namespace_id, id),
  foreign key (tenant_id, namespace_id) references rag_namespaces (tenant_id, id) on delete cascade
);
create index rag_documents_by_hash on rag_documents (tenant_id, namespace_id, content_hash);
select tenantml_protect_tenant_table('rag_documents');

-- `label` is the integer id the vector index knows a chunk by. Embeddings are
-- float32 little-endian in bytea: compact, and PGlite has no pgvector.
create table rag_chunks (
  tenant_id text not null,
  namespace_id text not null,
  document_id text not null,
  label bigint generated always as identity,
  ord integer not null,
  page integer not null,
  heading_path text[] not null default '{}',
  text text not null,
  content_hash text not null,
  embedding bytea not null,
  tsv tsvector generated always as (to_tsvector('english', text)) stored,
  primary key (tenant_id, label),
  unique (tenant_id, namespace_id, document_id, content_hash),
  foreign key (tenant_id, namespace_id, document_id) references rag_documents (tenant_id, namespace_id, id) on delete cascade
);
create index rag_chunks_by_namespace on rag_chunks (tenant_id, namespace_id, label);
create index rag_chunks_tsv on rag_chunks using gin (tsv);
select tenantml_protect_tenant_table('rag_chunks');

-- Large uploads are ingested in the background; the bytes wait in the artifact
-- store under the tenant's prefix until the job finishes.
create table rag_ingest_jobs (
  tenant_id text not null references tenants (id),
  id text not null,
  namespace_id text not null,
  document_id text not null,
  state text not null check (state in ('queued', 'running', 'succeeded', 'failed')),
  progress real not null default 0,
  upload_key text not null,
  request jsonb not null default '{}',
  result jsonb,
  error jsonb,
  attempts integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  foreign key (tenant_id, namespace_id) references rag_namespaces (tenant_id, id) on delete cascade
);
create index rag_ingest_jobs_pending on rag_ingest_jobs (state, created_at) where state in ('queued', 'running');
select tenantml_protect_tenant_table('rag_ingest_jobs');
