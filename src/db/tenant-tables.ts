import type { Tx } from './db.js';

/** Every table in the schema that holds tenant rows (has a `tenant_id` column). */
export async function listTenantTables(tx: Tx): Promise<string[]> {
  const res = await tx.query<{ table_name: string }>(
    `select c.table_name from information_schema.columns c
       join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = current_schema() and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE'
      order by c.table_name`,
  );
  return res.rows.map((r) => r.table_name);
}

/**
 * Tenant tables ordered so that every table comes before the tables it references:
 * deleting in this order never trips a foreign key, and cascades never hide counts.
 */
export async function tenantTablesChildrenFirst(tx: Tx): Promise<string[]> {
  const tables = await listTenantTables(tx);
  const fks = await tx.query<{ child: string; parent: string }>(
    `select cl.relname as child, pl.relname as parent
       from pg_constraint k
       join pg_class cl on cl.oid = k.conrelid
       join pg_class pl on pl.oid = k.confrelid
       join pg_namespace n on n.oid = cl.relnamespace
      where k.contype = 'f' and n.nspname = current_schema()`,
  );
  const children = new Map<string, Set<string>>(tables.map((t) => [t, new Set()]));
  for (const { child, parent } of fks.rows) if (child !== parent) children.get(parent)?.add(child);
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (t: string) => {
    if (ordered.includes(t) || visiting.has(t)) return;
    visiting.add(t);
    for (const c of children.get(t) ?? []) visit(c);
    visiting.delete(t);
    ordered.push(t);
  };
  for (const t of tables) visit(t);
  return ordered;
}
