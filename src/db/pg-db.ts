import pg from 'pg';
import { beginTenantSql, type Db, type QueryResult, type Tx } from './db.js';

function wrap(client: pg.PoolClient): Tx {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const res = await client.query(sql, params as unknown[]);
      return { rows: res.rows as R[], rowCount: res.rowCount ?? res.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  };
}

// int8 (counts, sums) as JS numbers: every count we keep fits in 2^53.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** A PostgreSQL server through a `pg` connection pool. */
export class PostgresDb implements Db {
  readonly kind = 'postgres' as const;

  private constructor(private readonly pool: pg.Pool) {}

  static open(connectionString: string, maxConnections = 10): PostgresDb {
    const pool = new pg.Pool({ connectionString, max: maxConnections, types });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    return new PostgresDb(pool);
  }

  /** Runs `fn` in a transaction opened by `begin` (a simple-protocol string that starts with `begin`). */
  private async transaction<T>(begin: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(begin);
      const result = await fn(wrap(client));
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  withTenant<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.transaction(beginTenantSql(tenantId), fn);
  }

  withSystem<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.transaction('begin', fn);
  }

  async ping(): Promise<void> {
    await this.pool.query('select 1');
  }

  async maintain(): Promise<void> {
    await this.pool.query('vacuum analyze');
    // The server checkpoints by itself; asking now needs superuser or pg_checkpoint, which the platform does not require.
    await this.pool.query('checkpoint').catch((err: { code?: string }) => {
      if (err.code !== '42501') throw err;
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
