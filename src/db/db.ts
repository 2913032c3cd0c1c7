/**
 * The database seam. Every tenant read or write goes through `withTenant`, which
 * runs the work as the application role with `app.tenant_id` set for that one
 * transaction, so Postgres row-level security filters every statement. The only
 * way around RLS is `withSystem`, reserved for migrations, authentication
 * look-ups, the job queue and the operator's purge — never route code.
 */

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** A transaction (or connection) that statements can run on. */
export interface Tx {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type DbKind = 'pglite' | 'postgres';

export interface Db {
  readonly kind: DbKind;
  /** Runs `fn` in a transaction as the application role, scoped by RLS to `tenantId`. */
  withTenant<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs `fn` in a transaction as the owner role, which bypasses RLS. Operator and system work only. */
  withSystem<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Checks that the database answers (for `/readyz`). */
  ping(): Promise<void>;
  /**
   * `VACUUM ANALYZE` of every table, then a checkpoint: what a server's
   * autovacuum and checkpointer do by themselves, and what embedded PGlite
   * never does (no background processes), so its planner has no statistics
   * and its tables keep dead rows until this runs. Blocks the embedded
   * database for seconds on large tables: `tenantml maintain`, off-peak.
   */
  maintain(): Promise<void>;
  close(): Promise<void>;
}

/** The role tenant work runs as: owns nothing, no BYPASSRLS, not a superuser. */
export const APP_ROLE = 'tenantml_app';

/** The statement that enters the application role and the tenant (an SQL expression), both transaction-local. */
const enterTenant = (tenantIdSql: string) => `select set_config('role', '${APP_ROLE}', true), set_config('app.tenant_id', ${tenantIdSql}, true)`;

/** One statement that enters the application role and the tenant `$1`, both transaction-local. */
export const ENTER_TENANT_SQL = enterTenant('$1');

const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Tenant ids are short, lower-case and safe in keys and paths (invariant 3). */
export function isValidTenantId(id: string): boolean {
  return TENANT_ID_PATTERN.test(id);
}

/**
 * `begin` and `ENTER_TENANT_SQL` as one simple-protocol string, so a server
 * opens a tenant transaction in one round trip instead of two. The id is
 * inlined: `assertTenantId` admits only [a-z0-9_-], so it cannot close the quote.
 */
export function beginTenantSql(tenantId: string): string {
  assertTenantId(tenantId);
  return `begin; ${enterTenant(`'${tenantId}'`)}`;
}

export function assertTenantId(tenantId: string): void {
  // An empty or malformed id must never reach set_config: '' would match no row,
  // but a bug that passes one should fail loudly rather than silently.
  if (!isValidTenantId(tenantId)) throw new Error(`invalid tenant id for withTenant: ${JSON.stringify(tenantId)}`);
}
