import { PGlite } from '@electric-sql/pglite';
import { assertTenantId, type Db, ENTER_TENANT_SQL, type QueryResult, type Tx } from './db.js';

interface PGliteQueryable {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

function wrap(q: PGliteQueryable): Tx {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const res = await q.query<R>(sql, [...params]);
      // PGlite reports affectedRows = 0 for SELECT; count the rows there.
      return { rows: res.rows, rowCount: res.rows.length > 0 ? res.rows.length : (res.affectedRows ?? 0) };
    },
    async exec(sql: string): Promise<void> {
      await q.exec(sql);
    },
  };
}

/**
 * Postgres compiled to WASM, in process. It runs one statement at a time, so
 * transactions here must stay short: PGlite queues every other caller behind them.
 */
export class PGliteDb implements Db {
  readonly kind = 'pglite' as const;

  private constructor(private readonly pg: PGlite) {}

  /** Opens (or creates) a PGlite database in `dataDir`, or in memory when it is undefined. */
  static async open(dataDir: string | undefined): Promise<PGliteDb> {
    const pg = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
    return new PGliteDb(pg);
  }

  withTenant<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    assertTenantId(tenantId);
    return this.pg.transaction(async (tx) => {
      await tx.query(ENTER_TENANT_SQL, [tenantId]);
      return fn(wrap(tx));
    });
  }

  withSystem<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.pg.transaction(async (tx) => fn(wrap(tx)));
  }

  async ping(): Promise<void> {
    await this.pg.query('select 1');
  }

  async maintain(): Promise<void> {
    await this.pg.exec('vacuum analyze');
    await this.pg.exec('checkpoint');
  }

  async close(): Promise<void> {
    if (!this.pg.closed) await this.pg.close();
  }
}
