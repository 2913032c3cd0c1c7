import type { Db } from './db.js';

// Minor releases that fixed the optimizer-statistics leaks past row-level security
// (CVE-2025-8713). Majors after 17 shipped with the fix.
const MIN_MINOR_BY_MAJOR: Record<number, number> = { 13: 22, 14: 19, 15: 14, 16: 10, 17: 6 };

/** Why this server version cannot be trusted with RLS, or null when it can. */
export function rlsLeakReason(serverVersionNum: number): string | null {
  const major = Math.floor(serverVersionNum / 10000);
  const minor = serverVersionNum % 10000;
  if (major >= 18) return null;
  const minMinor = MIN_MINOR_BY_MAJOR[major];
  if (minMinor === undefined) return `PostgreSQL ${major} is not supported; use 15.14, 16.10, 17.6 or newer`;
  if (minor < minMinor)
    return `PostgreSQL ${major}.${minor} leaks row statistics past row-level security (CVE-2025-8713); upgrade to ${major}.${minMinor} or newer`;
  return null;
}

/**
 * Refuses a database tenantml cannot keep tenants apart on: a server release with
 * the known RLS leaks, or an owner role that cannot bypass the forced policies
 * for system work (migrations, authentication, purge).
 */
export async function checkServer(db: Db): Promise<void> {
  const row = await db.withSystem(async (tx) => {
    const res = await tx.query<{ v: string; superuser: boolean; bypass: boolean; role: string }>(
      `select current_setting('server_version_num') as v, r.rolsuper as superuser, r.rolbypassrls as bypass, current_user as role
         from pg_roles r where r.rolname = current_user`,
    );
    return res.rows[0];
  });
  if (!row) throw new Error('could not read the database server version');
  const reason = rlsLeakReason(Number(row.v));
  if (reason) throw new Error(`refusing to start: ${reason}`);
  if (!row.superuser && !row.bypass) {
    throw new Error(
      `refusing to start: the database role '${row.role}' owns the schema but has neither SUPERUSER nor BYPASSRLS; ` +
        'system work (migrations, authentication, purge) needs one of them. Tenant work always runs as tenantml_app.',
    );
  }
}
