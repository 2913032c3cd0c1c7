import type { Db } from '../../src/db/db.js';

/**
 * Every row of every table in the schema whose text form mentions `needle`:
 * finds a tenant id in any column, not only in tenant_id.
 */
export async function scanAllTablesFor(db: Db, needle: string): Promise<Record<string, number>> {
  return db.withSystem(async (tx) => {
    const tables = await tx.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`,
    );
    const found: Record<string, number> = {};
    for (const { table_name } of tables.rows) {
      const res = await tx.query<{ n: number }>(`select count(*)::int as n from "${table_name}" t where t::text like '%' || $1 || '%'`, [needle]);
      if (res.rows[0]!.n > 0) found[table_name] = res.rows[0]!.n;
    }
    return found;
  });
}
