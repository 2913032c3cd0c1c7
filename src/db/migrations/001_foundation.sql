-- Foundation: roles, the helper that protects tenant tables, tenants, keys, datasets.

-- The application role: owns nothing, cannot log in, cannot bypass RLS, is not a
-- superuser. Roles are cluster-wide, so several databases (and replicas starting at
-- once) may race to create it.
do $$ begin
  create role tenantml_app nologin nosuperuser nobypassrls noinherit nocreatedb nocreaterole;
exception when duplicate_object or unique_violation then null;
end $$;

-- The owner must be able to switch into the application role with SET LOCAL ROLE.
do $$ begin
  if not (select rolsuper from pg_roles where rolname = current_user) then
    execute format('grant tenantml_app to %I', current_user);
  end if;
end $$;

-- The application role creates nothing: no tables, no functions.
revoke create on schema public from public;
revoke create on schema public from tenantml_app;
grant usage on schema public to tenantml_app;
alter default privileges in schema public grant select, insert, update, delete on tables to tenantml_app;
alter default privileges in schema public grant usage, select on sequences to tenantml_app;
alter default privileges in schema public revoke execute on functions from public;

-- Every tenant table goes through this. The RESTRICTIVE policy is the tenant check:
-- restrictive policies are ANDed with everything else, so no permissive policy added
-- later can widen it. NULLIF makes an unset or empty setting match no row, and the
-- sub-select makes Postgres evaluate the setting once per query, not once per row.
create or replace function tenantml_protect_tenant_table(tbl regclass) returns void
language plpgsql as $fn$
declare
  tenant_check text := $c$tenant_id = (select nullif(current_setting('app.tenant_id', true), ''))$c$;
begin
  execute format('alter table %s enable row level security', tbl);
  execute format('alter table %s force row level security', tbl);
  execute format('create policy tenant_isolation on %s as restrictive for all to public using (%s) with check (%s)',
                 tbl, tenant_check, tenant_check);
  -- Postgres grants nothing without at least one permissive policy; this one is
  -- tenant-scoped too, so even it alone would not leak.
  execute format('create policy tenant_access on %s as permissive for all to tenantml_app using (%s) with check (%s)',
                 tbl, tenant_check, tenant_check);
end
$fn$;

-- Operator tables (no tenant_id): the application role gets no access at all.
create table operator_settings (
  key text primary key,
  value text not null,
  updated_at timestamptz not null default now()
);
revoke all on operator_settings from tenantml_app;

create table tenants (
  id text primary key check (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name text not null check (length(name) between 1 and 200),
  isolation text not null default 'pooled' check (isolation in ('pooled', 'siloed')),
  allow_pooled_training boolean not null default false,
  limits jsonb not null default '{}',
  status text not null default 'active' check (status in ('active', 'suspended')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
revoke all on tenants from tenantml_app;

create table api_keys (
  tenant_id text not null references tenants (id),
  id text not null primary key,
  secret_hash bytea not null,
  name text,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  unique (tenant_id, id)
);
select tenantml_protect_tenant_table('api_keys');

create table datasets (
  tenant_id text not null references tenants (id),
  id text not null,
  name text not null,
  columns jsonb not null default '[]',
  row_count bigint not null default 0,
  size_bytes bigint not null default 0,
  upload_seq bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, name)
);
select tenantml_protect_tenant_table('datasets');

-- Rows of an upload are written in short batches while the body streams in, and
-- become visible together when the upload is committed (state + seq in one
-- transaction). Readers only join committed uploads.
create table dataset_uploads (
  tenant_id text not null,
  id text not null,
  dataset_id text not null,
  state text not null check (state in ('pending', 'committed', 'failed')),
  seq bigint,
  row_count bigint not null default 0,
  size_bytes bigint not null default 0,
  created_at timestamptz not null default now(),
  committed_at timestamptz,
  primary key (tenant_id, id),
  unique (tenant_id, dataset_id, id),
  foreign key (tenant_id, dataset_id) references datasets (tenant_id, id) on delete cascade
);
create index dataset_uploads_by_dataset on dataset_uploads (tenant_id, dataset_id, state, seq);
select tenantml_protect_tenant_table('dataset_uploads');

create table dataset_rows (
  tenant_id text not null,
  dataset_id text not null,
  upload_id text not null,
  row_no integer not null,
  "values" jsonb not null,
  primary key (tenant_id, dataset_id, upload_id, row_no),
  foreign key (tenant_id, dataset_id, upload_id) references dataset_uploads (tenant_id, dataset_id, id) on delete cascade
);
select tenantml_protect_tenant_table('dataset_rows');
