/**
 * The quota store of a real deployment: counters persist in the `tenant_usage`
 * table (under RLS), but requests are judged against this process's memory.
 * Increments are buffered and added to Postgres in one statement per tenant
 * every `flushIntervalMs` (and on close), so the request path touches the
 * database only for the first read of a counter (a cold read).
 *
 * Tolerance (see README.md): one replica enforces exactly. With N replicas a
 * replica learns of the others' increments at its next flush, so a window can
 * be overrun by what the other replicas admit within one flush interval. A
 * crash loses at most the last interval's increments (counted in the tenant's
 * favour).
 */
import type { Db } from '../db/db.js';
import type { LimitsLogger } from './degrading-rate-limiter.js';
import type { QuotaCounter, QuotaStore } from './quota-store.js';

/** Options of `createPostgresQuotaStore`. */
export interface PostgresQuotaStoreOptions {
  db: Db;
  /** How often buffered increments reach Postgres. Default 1,000 ms; 0 writes through on every add (no buffering). */
  flushIntervalMs?: number;
  logger?: LimitsLogger;
}

/** One stored counter of one tenant. */
export interface UsageCounterRow {
  tenantId: string;
  counter: string;
  window: string;
  used: number;
}

/** A `QuotaStore` that also takes fire-and-forget counts and reports every tenant's counters. */
export interface BufferedQuotaStore extends QuotaStore {
  /** Adds `amount` without a limit and without waiting (request and throttle counters). */
  count(tenantId: string, counter: QuotaCounter, window: string, amount: number): void;
  /** Writes buffered increments now; resolves when they are stored. */
  flush(): Promise<void>;
  /** Every tenant's counters in `windows`, stored plus still buffered here (operator view). */
  allCounters(windows: readonly string[]): Promise<UsageCounterRow[]>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

interface Slot {
  tenantId: string;
  counter: string;
  window: string;
  /** The stored total as of the last read or flush; undefined until read. */
  base: number | undefined;
  /** Increments made here since the last flush. */
  pending: number;
  /** Used since the last flush tick: keep it in memory and refresh its base. */
  touched: boolean;
  loading: Promise<void> | undefined;
}

// Adds the non-zero increments and reads back the totals of every counter sent,
// so idle counters learn what other replicas added without writing a row.
const FLUSH = `
  with input as (
    select * from unnest($2::text[], $3::text[], $4::bigint[]) as t(counter, window_key, amount)
  ), written as (
    insert into tenant_usage as u (tenant_id, counter, window_key, used)
    select $1, counter, window_key, amount from input where amount <> 0
    on conflict (tenant_id, counter, window_key)
    do update set used = u.used + excluded.used, updated_at = now()
    returning counter, window_key, used
  )
  select counter, window_key, used from written
  union all
  select u.counter, u.window_key, u.used
    from tenant_usage u join input i on i.counter = u.counter and i.window_key = u.window_key
   where i.amount = 0`;

const FOREIGN_KEY_VIOLATION = '23503';

/** Builds the buffered Postgres store and starts its flush timer. */
export function createPostgresQuotaStore(options: PostgresQuotaStoreOptions): BufferedQuotaStore {
  const { db, logger } = options;
  const interval = options.flushIntervalMs ?? 1000;
  const slots = new Map<string, Slot>();
  const keyOf = (tenantId: string, counter: string, window: string) => `${tenantId}\u0000${counter}\u0000${window}`;
  let flushing: Promise<void> = Promise.resolve();
  let closed = false;

  function slot(tenantId: string, counter: string, window: string): Slot {
    const key = keyOf(tenantId, counter, window);
    let s = slots.get(key);
    if (!s) {
      s = { tenantId, counter, window, base: undefined, pending: 0, touched: true, loading: undefined };
      slots.set(key, s);
    }
    s.touched = true;
    return s;
  }

  async function load(s: Slot): Promise<void> {
    if (s.base !== undefined) return;
    s.loading ??= db
      .withTenant(s.tenantId, (tx) =>
        tx.query<{ used: number | string }>('select used from tenant_usage where counter = $1 and window_key = $2', [s.counter, s.window]),
      )
      .then((res) => {
        s.base ??= Number(res.rows[0]?.used ?? 0);
      })
      .finally(() => {
        s.loading = undefined;
      });
    await s.loading;
  }

  async function writeTenant(tenantId: string, batch: Slot[]): Promise<void> {
    const sent = batch.map((s) => s.pending);
    for (const s of batch) s.pending = 0;
    try {
      const res = await db.withTenant(tenantId, (tx) =>
        tx.query<{ counter: string; window_key: string; used: number | string }>(FLUSH, [
          tenantId,
          batch.map((s) => s.counter),
          batch.map((s) => s.window),
          sent,
        ]),
      );
      // The stored total now includes every replica's flushed increments.
      for (const row of res.rows) {
        const s = slots.get(keyOf(tenantId, row.counter, row.window_key));
        if (s) s.base = Number(row.used);
      }
    } catch (error) {
      if ((error as { code?: string }).code === FOREIGN_KEY_VIOLATION) {
        // The tenant was purged meanwhile: its counters go with it.
        for (const s of batch) slots.delete(keyOf(s.tenantId, s.counter, s.window));
        return;
      }
      for (const [i, s] of batch.entries()) s.pending += sent[i]!;
      throw error;
    }
  }

  async function flushNow(): Promise<void> {
    const byTenant = new Map<string, Slot[]>();
    for (const [key, s] of slots) {
      if (!s.touched && s.pending === 0 && !s.loading) {
        // Idle for a whole interval: forget it, so a later use reads the fresh total.
        slots.delete(key);
        continue;
      }
      s.touched = false;
      const list = byTenant.get(s.tenantId) ?? [];
      list.push(s);
      byTenant.set(s.tenantId, list);
    }
    const failures: unknown[] = [];
    for (const [tenantId, batch] of byTenant) {
      await writeTenant(tenantId, batch).catch((e: unknown) => failures.push(e));
      // One transaction per tenant (RLS), and with an in-process database each settles without a trip through the
      // event loop: yield between tenants so a flush of hundreds of them does not hold requests back for its whole length.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (failures.length > 0) {
      logger?.warn({ err: failures[0], tenants: failures.length }, 'usage counters could not be stored; retrying at the next flush');
    }
  }

  function flush(): Promise<void> {
    flushing = flushing.then(flushNow, flushNow);
    return flushing;
  }

  const timer = interval > 0 ? setInterval(() => void flush(), interval) : undefined;
  timer?.unref();

  return {
    async add(tenantId, counter, window, amount, limit) {
      const s = slot(tenantId, counter, window);
      await load(s);
      // From here to the increment nothing awaits: check-and-add is atomic in this process.
      const current = (s.base ?? 0) + s.pending;
      if (limit !== undefined && amount > 0 && current + amount > limit) return { applied: false, used: current };
      s.pending += amount;
      if (interval === 0) await flush();
      return { applied: true, used: current + amount };
    },
    async get(tenantId, counter, window) {
      const s = slot(tenantId, counter, window);
      await load(s);
      return (s.base ?? 0) + s.pending;
    },
    count(tenantId, counter, window, amount) {
      if (closed) return;
      slot(tenantId, counter, window).pending += amount;
    },
    flush,
    async allCounters(windows) {
      await flush();
      const res = await db.withSystem((tx) =>
        tx.query<{ tenant_id: string; counter: string; window_key: string; used: number | string }>(
          'select tenant_id, counter, window_key, used from tenant_usage where window_key = any($1::text[]) order by tenant_id, counter, window_key',
          [windows],
        ),
      );
      const rows = new Map(
        res.rows.map((r) => [keyOf(r.tenant_id, r.counter, r.window_key), { tenantId: r.tenant_id, counter: r.counter, window: r.window_key, used: Number(r.used) }]),
      );
      // Increments made here after the flush began are not stored yet; show them too.
      for (const [key, s] of slots) {
        if (s.pending === 0 || !windows.includes(s.window)) continue;
        const row = rows.get(key) ?? { tenantId: s.tenantId, counter: s.counter, window: s.window, used: 0 };
        row.used += s.pending;
        rows.set(key, row);
      }
      return [...rows.values()];
    },
    async forgetTenant(tenantId) {
      // Let a flush in progress finish, so it cannot write the tenant back after the purge.
      await flushing.catch(() => {});
      let count = 0;
      for (const [key, s] of slots) {
        if (s.tenantId !== tenantId) continue;
        slots.delete(key);
        count++;
      }
      return count;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await flush();
    },
  };
}
