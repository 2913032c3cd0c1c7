-- Usage counters per tenant, counter and window: predicted rows per UTC day and
-- month (the quotas), and admitted / throttled / shed requests per UTC day (what
-- the operator's usage view shows). Replicas buffer increments in memory and add
-- them here about once a second, so the request path touches no database.
create table tenant_usage (
  -- Cascades so that increments a replica flushed while the tenant was being
  -- purged cannot keep the tenant row alive; the purge deletes this table's rows
  -- itself first, like every tenant table.
  tenant_id text not null references tenants (id) on delete cascade,
  counter text not null check (counter ~ '^[a-z_]{1,40}$'),
  window_key text not null check (window_key ~ '^(day|month):[0-9]{4}-[0-9]{2}(-[0-9]{2})?$'),
  used bigint not null default 0,
  updated_at timestamptz not null default now(),
  primary key (tenant_id, counter, window_key)
);
select tenantml_protect_tenant_table('tenant_usage');
