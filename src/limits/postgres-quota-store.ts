/**
 * The quota store of a real deployment: counters persist in the `tenant_usage`
 * table (under RLS), but requests are judged against this process's memory.
 * Increments are buffered and added to Postgres in one statement per tenant,
 * so the request path touches the database only for the first read of a
 * counter (a cold read).
 *
 * Writes cost a transaction per tenant, so a timer tick (`flushIntervalMs`)
 * writes only the tenants that need it: a counter near its limit (less than
 * 10% of it left, or 1% of it buffered) is written and refreshed at every tick,
 * any other at least every `STALE_TICKS` ticks; `flush()` and `close()` write
 * everything. With hundreds of active tenants the ticks then cost a few
 * transactions each instead of hundreds.
 *
 * Tolerance (see README.md): one replica enforces exactly. With N replicas a
 * replica learns of the others' increments when they write, so a window near
 * its limit can be overrun by what the other replicas admit within one tick; far
 * from it, the others' counts arrive within `STALE_TICKS` ticks. A crash loses
 * at most the increments not yet written (counted in the tenant's favour).
 */
import type { Db } from '../db/db.js';
import type { LimitsLogger } from './degrading-rate-limiter.js';
import type { QuotaAddResult, QuotaCounter, QuotaStore } from './quota-store.js';

/** Options of `createPostgresQuotaStore`. */
export interface PostgresQuotaStoreOptions {
  db: Db;
  /** How often buffered increments reach Postgres. Default 1,000 ms; 0 writes through on every add (no buffering). */
  flushIntervalMs?: number;
  /** Ticks between two writes of a counter far from its limit; default `STALE_TICKS` (`EMBEDDED_STALE_TICKS` on PGlite). */
  staleTicks?: number;
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
  /**
   * Increments being written right now: still counted, until the write's
   * returned total (which includes them) replaces `base`. Without it a request
   * made during a flush saw them nowhere and could pass the limit.
   */
  writing: number;
  /** The limit of the last `add`, if any: decides how often the counter is synchronised. */
  limit: number | undefined;
  /** The tick of its last use: idle for `STALE_TICKS` with nothing buffered, it is forgotten. */
  usedAtTick: number;
  /** The tick of its last write or refresh. */
  syncedAtTick: number;
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

/** Ticks between two writes of a counter far from its limit (10 s at the default interval). */
export const STALE_TICKS = 10;
/**
 * The same on the embedded database (30 s at the default interval): it has one process and no other replica to hear
 * from, so the periodic write of a counter far from its limit is only for durability, and each write runs on the
 * event loop (~1.5 ms), so it is made less often.
 */
export const EMBEDDED_STALE_TICKS = 30;
/** The share of the interval over which a tick spreads its writes (the rest is slack before the next tick). */
const PACED_SHARE = 0.8;
/** A counter with less than this share of its limit left is synchronised at every tick. */
const NEAR_LIMIT_SHARE = 0.1;
/** …and so is one with at least this share of its limit buffered. */
const BUFFERED_SHARE = 0.01;

/** Builds the buffered Postgres store and starts its flush timer. */
export function createPostgresQuotaStore(options: PostgresQuotaStoreOptions): BufferedQuotaStore {
  const { db, logger } = options;
  const interval = options.flushIntervalMs ?? 1000;
  // Each tenant's few counters: the request path finds one without building a key string, and a flush writes a tenant's list.
  const slots = new Map<string, Slot[]>();
  const keyOf = (tenantId: string, counter: string, window: string) => `${tenantId}\u0000${counter}\u0000${window}`;
  let flushing: Promise<void> = Promise.resolve();
  // Flushes of everything asked for and not yet finished: a paced tick ahead of them stops pacing.
  let hurried = 0;
  let wakePaced: (() => void) | undefined;
  let closed = false;

  let tick = 0;
  const staleTicks = Math.max(1, options.staleTicks ?? (db.kind === 'pglite' ? EMBEDDED_STALE_TICKS : STALE_TICKS));

  const find = (tenantId: string, counter: string, window: string) => slots.get(tenantId)?.find((c) => c.counter === counter && c.window === window);
  function remove(s: Slot): void {
    const list = slots.get(s.tenantId);
    const at = list?.indexOf(s) ?? -1;
    if (at >= 0) list!.splice(at, 1);
    if (list?.length === 0) slots.delete(s.tenantId);
  }

  function slot(tenantId: string, counter: string, window: string): Slot {
    let s = find(tenantId, counter, window);
    if (!s) {
      const list = slots.get(tenantId);
      // A tenant's counters are written together, so a new one joins its tenant's schedule. A new tenant starts at a
      // random point of the whole window: tenants first used in the same tick then come due spread over all its ticks
      // (a phase per counter made a tenant due at the earliest of its counters, and tenants came due in waves).
      const syncedAtTick = list?.[0]?.syncedAtTick ?? tick - Math.floor(Math.random() * staleTicks);
      s = { tenantId, counter, window, base: undefined, pending: 0, writing: 0, limit: undefined, usedAtTick: tick, syncedAtTick, loading: undefined };
      if (list) list.push(s);
      else slots.set(tenantId, [s]);
    }
    s.usedAtTick = tick;
    return s;
  }

  /** Whether the timer should write (or refresh) this counter now. */
  function isDue(s: Slot): boolean {
    if (tick - s.syncedAtTick >= staleTicks) return true;
    if (s.limit === undefined || s.base === undefined) return false;
    const used = s.base + s.writing + s.pending;
    return s.limit - used < NEAR_LIMIT_SHARE * s.limit || Math.abs(s.pending) >= BUFFERED_SHARE * s.limit;
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

  /** Check-and-add on a counter whose stored total is known; nothing awaits, so it is atomic in this process. */
  function addToLoaded(s: Slot, amount: number, limit: number | undefined): QuotaAddResult {
    const current = used(s);
    if (limit !== undefined && amount > 0 && current + amount > limit) return { applied: false, used: current };
    s.pending += amount;
    return { applied: true, used: current + amount };
  }

  /** What the counter stands at as far as this process knows: stored, being written, and buffered. */
  function used(s: Slot): number {
    return (s.base ?? 0) + s.writing + s.pending;
  }

  async function writeTenant(tenantId: string, batch: Slot[]): Promise<void> {
    const sent = batch.map((s) => s.pending);
    for (const s of batch) {
      s.writing += s.pending;
      s.pending = 0;
    }
    try {
      const res = await db.withTenant(tenantId, (tx) =>
        tx.query<{ counter: string; window_key: string; used: number | string }>(FLUSH, [
          tenantId,
          batch.map((s) => s.counter),
          batch.map((s) => s.window),
          sent,
        ]),
      );
      // The stored total now includes every replica's flushed increments, this write's among them.
      const stored = new Map(res.rows.map((row) => [`${row.counter}\u0000${row.window_key}`, Number(row.used)]));
      for (const [i, s] of batch.entries()) {
        s.writing -= sent[i]!;
        const total = stored.get(`${s.counter}\u0000${s.window}`);
        if (total !== undefined) s.base = total;
        s.syncedAtTick = tick;
      }
    } catch (error) {
      if ((error as { code?: string }).code === FOREIGN_KEY_VIOLATION) {
        // The tenant was purged meanwhile: its counters go with it.
        for (const s of batch) remove(s);
        return;
      }
      for (const [i, s] of batch.entries()) {
        s.writing -= sent[i]!;
        s.pending += sent[i]!;
      }
      throw error;
    }
  }

  /** Writes the tenants with a due counter (all tenants with `everything`), each with all its counters. */
  async function flushNow(everything: boolean): Promise<void> {
    const due: Array<[string, Slot[]]> = [];
    for (const [tenantId, list] of [...slots]) {
      // Idle for a while: forget it, so a later use reads the fresh total.
      for (const s of [...list]) if (s.pending === 0 && s.writing === 0 && !s.loading && tick - s.usedAtTick >= staleTicks) remove(s);
      if (slots.has(tenantId) && (everything || list.some(isDue))) due.push([tenantId, [...list]]);
    }
    const failures: unknown[] = [];
    // One transaction per tenant (RLS). A tick's writes are spread over most of the interval, not run back to back:
    // on the embedded database each runs on the event loop (1.5–3 ms), and a tick's dozen or two of them together
    // added a third to the loop's load for a tenth of a second, queueing every request that came meanwhile.
    // A flush of everything (or one asked for while a tick is paced) only yields a turn between tenants.
    const spacing = everything ? 0 : (interval * PACED_SHARE) / Math.max(1, due.length);
    const started = performance.now();
    for (const [i, [tenantId, batch]] of due.entries()) {
      await writeTenant(tenantId, batch).catch((e: unknown) => failures.push(e));
      if (i === due.length - 1) break;
      await pause(hurried > 0 ? 0 : started + (i + 1) * spacing - performance.now());
    }
    if (failures.length > 0) {
      logger?.warn({ err: failures[0], tenants: failures.length }, 'usage counters could not be stored; retrying at the next flush');
    }
  }

  /** Waits `ms` (a turn of the event loop if under 1), or until a flush of everything cuts the wait short. */
  function pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (ms < 1) return void setImmediate(resolve);
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        wakePaced = undefined;
        resolve();
      }
      wakePaced = done;
    });
  }

  function flush(everything = true): Promise<void> {
    const run = () => flushNow(everything);
    flushing = flushing.then(run, run);
    if (everything) {
      hurried++;
      wakePaced?.();
      flushing = flushing.finally(() => hurried--);
    }
    return flushing;
  }

  const timer =
    interval > 0
      ? setInterval(() => {
          tick++;
          void flush(false);
        }, interval)
      : undefined;
  timer?.unref();

  return {
    async add(tenantId, counter, window, amount, limit) {
      const s = slot(tenantId, counter, window);
      await load(s);
      if (limit !== undefined) s.limit = limit;
      const result = addToLoaded(s, amount, limit);
      if (interval === 0) await flush();
      return result;
    },
    addNow(tenantId, counter, window, amount, limit) {
      // Writing through on every add (interval 0) needs the flush awaited: only the buffered store decides at once.
      if (interval === 0) return undefined;
      const s = slot(tenantId, counter, window);
      if (s.base === undefined) return undefined;
      if (limit !== undefined) s.limit = limit;
      return addToLoaded(s, amount, limit);
    },
    async get(tenantId, counter, window) {
      const s = slot(tenantId, counter, window);
      await load(s);
      return used(s);
    },
    count(tenantId, counter, window, amount) {
      if (closed) return;
      slot(tenantId, counter, window).pending += amount;
    },
    flush: () => flush(),
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
      for (const s of [...slots.values()].flat()) {
        if (s.pending === 0 || !windows.includes(s.window)) continue;
        const key = keyOf(s.tenantId, s.counter, s.window);
        const row = rows.get(key) ?? { tenantId: s.tenantId, counter: s.counter, window: s.window, used: 0 };
        row.used += s.pending;
        rows.set(key, row);
      }
      return [...rows.values()];
    },
    async forgetTenant(tenantId) {
      // Let a flush in progress finish, so it cannot write the tenant back after the purge.
      await flushing.catch(() => {});
      const count = slots.get(tenantId)?.length ?? 0;
      slots.delete(tenantId);
      return count;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await flush();
    },
  };
}
