-- Models: per-tenant registry (models, versions, aliases, serving policies), the
-- durable training-job queue, and the operator's global models.

create table models (
  tenant_id text not null references tenants (id),
  name text not null,
  -- Version numbers are reserved here before the artifact is written, so two
  -- publishers never write to the same key.
  last_version integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, name)
);
select tenantml_protect_tenant_table('models');

create table model_versions (
  tenant_id text not null,
  model_name text not null,
  version integer not null,
  -- The training job that produced it; unique per tenant, so a retried job can
  -- never publish twice. Null for imported models.
  job_id text,
  origin text not null check (origin in ('trained', 'imported')),
  spec jsonb not null,
  metrics jsonb not null default '{}',
  fingerprint jsonb not null,
  lineage jsonb not null,
  training_ms integer not null default 0,
  artifact_key text not null,
  artifact_sha256 text not null,
  size_bytes integer not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, model_name, version),
  unique (tenant_id, job_id),
  foreign key (tenant_id, model_name) references models (tenant_id, name) on delete cascade
);
select tenantml_protect_tenant_table('model_versions');

create table model_aliases (
  tenant_id text not null,
  model_name text not null,
  alias text not null,
  version integer not null,
  updated_at timestamptz not null default now(),
  primary key (tenant_id, model_name, alias),
  foreign key (tenant_id, model_name, version) references model_versions (tenant_id, model_name, version) on delete cascade
);
select tenantml_protect_tenant_table('model_aliases');

-- Which model answers a predict for a name: the tenant's own, the global one, or
-- whichever had the lower holdout error on the tenant's rows.
create table model_policies (
  tenant_id text not null references tenants (id),
  model_name text not null,
  policy text not null check (policy in ('own', 'global', 'best')),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, model_name)
);
select tenantml_protect_tenant_table('model_policies');

create table training_jobs (
  tenant_id text not null references tenants (id),
  id text not null,
  payload_version integer not null,
  payload jsonb not null,
  model_name text not null,
  state text not null check (state in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  progress jsonb not null default '{}',
  error jsonb,
  result_version integer,
  attempts integer not null default 0,
  max_attempts integer not null default 3,
  cancel_requested boolean not null default false,
  lease_owner text,
  lease_expires_at timestamptz,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  primary key (tenant_id, id)
);
create index training_jobs_queued on training_jobs (state, created_at) where state in ('queued', 'running');
create index training_jobs_by_tenant_start on training_jobs (tenant_id, started_at);
select tenantml_protect_tenant_table('training_jobs');

-- Global models belong to no tenant: operator tables, no tenant_id, no access for
-- the application role. Members (the consenting tenants a version learned from)
-- are rows of their own, so purging a tenant deletes its mention.
create table global_models (
  name text primary key,
  dataset text not null,
  spec jsonb not null,
  last_version integer not null default 0,
  stale boolean not null default false,
  stale_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
revoke all on global_models from tenantml_app;

create table global_model_versions (
  model_name text not null references global_models (name) on delete cascade,
  version integer not null,
  spec jsonb not null,
  metrics jsonb not null default '{}',
  fingerprint jsonb not null,
  member_count integer not null,
  training_ms integer not null default 0,
  artifact_key text not null,
  artifact_sha256 text not null,
  size_bytes integer not null,
  created_at timestamptz not null default now(),
  primary key (model_name, version)
);
revoke all on global_model_versions from tenantml_app;

create table global_model_members (
  model_name text not null,
  version integer not null,
  member_id text not null,
  -- The member's code in the model's categorical tenant feature.
  code integer not null,
  rows integer not null,
  comparison jsonb not null default '{}',
  primary key (model_name, version, member_id),
  foreign key (model_name, version) references global_model_versions (model_name, version) on delete cascade
);
create index global_model_members_by_member on global_model_members (member_id);
revoke all on global_model_members from tenantml_app;
