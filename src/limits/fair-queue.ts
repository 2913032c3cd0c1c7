/**
 * A weighted deficit-round-robin queue over tenants: each tenant has its own
 * FIFO, and tenants take turns, each turn granting `quantum × weight` units of
 * credit that the tenant spends on its head entries' costs. Tenants that are
 * blocked (at their concurrency limit) are passed over without credit.
 *
 * With a small quantum (the default is one unit) a newcomer is served after at
 * most one entry of each other tenant; large entries accumulate credit over
 * several turns, fast-forwarded so the queue never spins.
 */

/** What the queue needs to know of an entry. */
export interface FairQueueEntry {
  readonly tenantId: string;
  /** Work units: rows, or an estimate of the work. */
  readonly cost: number;
}

/** Options of `createFairQueue`. */
export interface FairQueueOptions {
  /** Credit per turn, in cost units, before weighting. */
  quantum: number;
  weightOf(tenantId: string): number;
  /** A blocked tenant keeps its queue but is skipped and earns no credit. */
  isBlocked(tenantId: string): boolean;
  /**
   * Whether a tenant whose queue is empty keeps its place in the round (e.g.
   * while its tasks still run), so that its next entry does not start a fresh
   * turn ahead of tenants already waiting. Default: never.
   */
  holdsTurn?(tenantId: string): boolean;
}

/** A DRR queue of entries belonging to tenants. */
export interface FairQueue<E extends FairQueueEntry> {
  push(entry: E): void;
  /** Removes a queued entry (cancellation, expiry); false if it was not queued. */
  remove(entry: E): boolean;
  /** The next entry by DRR among tenants that are not blocked, or undefined. */
  pop(): E | undefined;
  readonly size: number;
  readonly totalCost: number;
  countOf(tenantId: string): number;
  /**
   * Units DRR would serve before a new entry of `cost` from `tenantId`: the
   * tenant's own queue plus, from each other tenant, at most a weighted equal share.
   */
  costAhead(tenantId: string, cost: number): number;
}

interface Flow<E> {
  tenantId: string;
  entries: E[];
  deficit: number;
  cost: number;
}

/** Builds an empty DRR queue. */
export function createFairQueue<E extends FairQueueEntry>(options: FairQueueOptions): FairQueue<E> {
  const { quantum, weightOf, isBlocked } = options;
  const holdsTurn = options.holdsTurn ?? (() => false);
  const flows = new Map<string, Flow<E>>();
  // Tenants with queued entries, in round-robin order.
  const active: Flow<E>[] = [];
  let cursor = 0;
  // Whether the flow at `cursor` already received its credit for the current turn.
  let credited = false;
  let size = 0;
  let totalCost = 0;

  function deactivate(flow: Flow<E>): void {
    const index = active.indexOf(flow);
    active.splice(index, 1);
    flows.delete(flow.tenantId);
    if (index < cursor) cursor--;
    else if (index === cursor) credited = false;
    if (cursor >= active.length) cursor = 0;
  }

  function take(flow: Flow<E>, index: number): E {
    const [entry] = flow.entries.splice(index, 1) as [E];
    flow.cost -= entry.cost;
    size--;
    totalCost -= entry.cost;
    // DRR: an emptied queue keeps no credit. The flow itself leaves the round
    // lazily, when `pop` next reaches it and it no longer holds its turn.
    if (flow.entries.length === 0) flow.deficit = 0;
    return entry;
  }

  return {
    push(entry) {
      let flow = flows.get(entry.tenantId);
      if (!flow) {
        flow = { tenantId: entry.tenantId, entries: [], deficit: 0, cost: 0 };
        flows.set(entry.tenantId, flow);
        active.push(flow);
      }
      flow.entries.push(entry);
      flow.cost += entry.cost;
      size++;
      totalCost += entry.cost;
    },
    remove(entry) {
      const flow = flows.get(entry.tenantId);
      const index = flow ? flow.entries.indexOf(entry) : -1;
      if (!flow || index < 0) return false;
      take(flow, index);
      return true;
    },
    pop() {
      for (;;) {
        if (active.length === 0) return undefined;
        // Fewest extra turns any unblocked tenant needs before it can afford its head entry.
        let shortfallTurns = Number.POSITIVE_INFINITY;
        for (let visited = 0, turns = active.length; visited < turns; visited++) {
          if (cursor >= active.length) cursor = 0;
          const flow = active[cursor]!;
          if (flow.entries.length === 0 && !holdsTurn(flow.tenantId)) {
            deactivate(flow);
            continue;
          }
          if (flow.entries.length === 0 || isBlocked(flow.tenantId)) {
            credited = false;
            cursor++;
            continue;
          }
          const grant = quantum * weightOf(flow.tenantId);
          if (!credited) {
            flow.deficit += grant;
            credited = true;
          }
          const head = flow.entries[0]!;
          if (head.cost <= flow.deficit) {
            flow.deficit -= head.cost;
            return take(flow, 0);
          }
          shortfallTurns = Math.min(shortfallTurns, Math.ceil((head.cost - flow.deficit) / grant));
          credited = false;
          cursor++;
        }
        if (shortfallTurns === Number.POSITIVE_INFINITY) return undefined; // every tenant is blocked
        // A whole round served nobody: grant the turns it would take in one step.
        const extraTurns = shortfallTurns - 1;
        if (extraTurns > 0) {
          for (const flow of active) if (flow.entries.length > 0 && !isBlocked(flow.tenantId)) flow.deficit += extraTurns * quantum * weightOf(flow.tenantId);
        }
      }
    },
    get size() {
      return size;
    },
    get totalCost() {
      return totalCost;
    },
    countOf(tenantId) {
      return flows.get(tenantId)?.entries.length ?? 0;
    },
    costAhead(tenantId, cost) {
      const own = flows.get(tenantId)?.cost ?? 0;
      const ownWeight = weightOf(tenantId);
      let ahead = own;
      for (const flow of active) {
        if (flow.tenantId === tenantId) continue;
        ahead += Math.min(flow.cost, ((own + cost) * weightOf(flow.tenantId)) / ownWeight);
      }
      return ahead;
    },
  };
}
