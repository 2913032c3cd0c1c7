/**
 * The fair scheduler of shared compute. Every inference and training task
 * runs through it: a fixed number of executor slots, each tenant capped at its
 * `maxConcurrent`, tenants served by weighted deficit round robin, the
 * real-time lane strictly ahead of the batch lane, large batches run as
 * slices so real-time work interleaves, and tasks that could not finish
 * before their deadline shed early with 503 + Retry-After. See README.md.
 */
import { errors } from '../errors.js';
import { createFairQueue, type FairQueue } from './fair-queue.js';
import { emit, type Lane, type LimitsHooks, type ShedEvent } from './hooks.js';

/** Options of `createFairScheduler`. */
export interface FairSchedulerOptions {
  /** Tasks running at once: worker threads, or 1 for CPU work on the event loop. Default 1. */
  slots?: number;
  /** Per-tenant concurrency when a task does not say. Default 4. */
  defaultMaxConcurrent?: number;
  /** DRR credit per turn in cost units. Default 1 (a newcomer waits at most one task per tenant). */
  quantum?: number;
  /** Rows per slice in `runSliced`. Default 2,000. */
  sliceRows?: number;
  /** Queued tasks per tenant before further ones are refused with 429. Default 10,000. */
  maxQueuedPerTenant?: number;
  /** Seed of the service-time estimate in ms per unit, per lane; 0 (default) means "unknown: never shed by estimate". */
  initialMsPerUnit?: Partial<Record<Lane, number>>;
  /** Monotonic milliseconds; injectable for tests. Default `performance.now`. */
  now?: () => number;
  hooks?: LimitsHooks;
}

/** What the caller says about one task. */
export interface TaskOptions {
  tenantId: string;
  lane: Lane;
  /** Work units (rows, or estimated units). Default 1. */
  cost?: number;
  /** Budget in ms from now; a task that cannot finish within it is shed. */
  deadlineMs?: number;
  signal?: AbortSignal;
  /** The tenant's `maxConcurrent`; the latest value given wins. */
  maxConcurrent?: number;
  /** The tenant's share weight; the latest value given wins. Default 1. */
  weight?: number;
}

/** A batch of rows to run as slices. */
export interface SlicedTaskOptions extends Omit<TaskOptions, 'lane' | 'cost'> {
  rows: number;
  sliceRows?: number;
  /** Default `batch`. */
  lane?: Lane;
}

/** Counters of one tenant, for metrics and the usage API. */
export interface TenantSchedulerStats {
  /** Tasks accepted into the queue. */
  admitted: number;
  started: number;
  shed: number;
  cancelled: number;
  inFlight: number;
  queued: number;
  /** Sum of queue waits of started tasks, ms. */
  totalWaitMs: number;
}

/** Runs tasks fairly on shared compute. */
export interface FairScheduler {
  /** Queues `fn` and settles with its result; rejects with `overloaded`, `rate_limited` or the abort reason. */
  run<T>(options: TaskOptions, fn: (signal: AbortSignal | undefined) => Promise<T> | T): Promise<T>;
  /** Runs rows [0, rows) as slices [start, end), each queued anew; resolves with the slices' results in order. */
  runSliced<T>(options: SlicedTaskOptions, fn: (start: number, end: number, signal: AbortSignal | undefined) => Promise<T> | T): Promise<T[]>;
  /**
   * Whether a real-time task of this tenant would start at once: a slot is
   * free, no real-time task waits, and the tenant is under its `maxConcurrent`.
   */
  canRunNow(tenantId: string, maxConcurrent?: number): boolean;
  /**
   * Runs a synchronous real-time `fn` at once when `canRunNow` holds (counted
   * as if queued and started with no wait), else returns undefined and runs
   * nothing. The common uncontended case then costs no promise and no queue.
   */
  runNow<T>(options: Omit<TaskOptions, 'lane' | 'signal' | 'deadlineMs'>, fn: () => T): { value: T } | undefined;
  stats(tenantId: string): TenantSchedulerStats;
  allStats(): Map<string, TenantSchedulerStats>;
  /** Milliseconds a new task of `cost` in `lane` would wait now, as used for shedding. */
  estimateWaitMs(tenantId: string, lane: Lane, cost: number): number;
  /** Drops an idle tenant's state (tenant purge); false while it still has work. */
  forgetTenant(tenantId: string): boolean;
}

interface Task {
  tenantId: string;
  lane: Lane;
  cost: number;
  enqueuedAt: number;
  deadlineAt: number | undefined;
  signal: AbortSignal | undefined;
  start(): void;
  fail(error: unknown): void;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
}

interface TenantState {
  maxConcurrent: number;
  weight: number;
  stats: TenantSchedulerStats;
}

/** Weight of the newest service-time sample in the moving average. */
const EWMA_ALPHA = 0.2;
/** A sample counts as at most this multiple of the current estimate. */
const SAMPLE_CAP = 4;

/** Builds a fair scheduler. */
export function createFairScheduler(options: FairSchedulerOptions = {}): FairScheduler {
  const slots = Math.max(1, Math.floor(options.slots ?? 1));
  const defaultMaxConcurrent = options.defaultMaxConcurrent ?? 4;
  const defaultSliceRows = options.sliceRows ?? 2000;
  const maxQueuedPerTenant = options.maxQueuedPerTenant ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const { hooks } = options;
  const tenants = new Map<string, TenantState>();
  const msPerUnit: Record<Lane, number> = {
    realtime: options.initialMsPerUnit?.realtime ?? 0,
    batch: options.initialMsPerUnit?.batch ?? 0,
  };
  let running = 0;

  /** The latest `maxConcurrent` and weight a task states are the tenant's. */
  function adopt(state: TenantState, options: Pick<TaskOptions, 'maxConcurrent' | 'weight'>): void {
    if (options.maxConcurrent !== undefined) state.maxConcurrent = Math.max(1, options.maxConcurrent);
    if (options.weight !== undefined && options.weight > 0) state.weight = options.weight;
  }

  function tenant(tenantId: string): TenantState {
    let state = tenants.get(tenantId);
    if (!state) {
      state = {
        maxConcurrent: defaultMaxConcurrent,
        weight: 1,
        stats: { admitted: 0, started: 0, shed: 0, cancelled: 0, inFlight: 0, queued: 0, totalWaitMs: 0 },
      };
      tenants.set(tenantId, state);
    }
    return state;
  }

  const queueOptions = {
    quantum: options.quantum ?? 1,
    weightOf: (id: string) => tenants.get(id)?.weight ?? 1,
    isBlocked: (id: string) => {
      const state = tenants.get(id);
      return state !== undefined && state.stats.inFlight >= state.maxConcurrent;
    },
    // A tenant whose last queued task is running keeps its turn: a newcomer goes next, not its follow-up.
    holdsTurn: (id: string) => (tenants.get(id)?.stats.inFlight ?? 0) > 0,
  };
  const lanes: Record<Lane, FairQueue<Task>> = {
    realtime: createFairQueue<Task>(queueOptions),
    batch: createFairQueue<Task>(queueOptions),
  };

  function estimateWaitMs(tenantId: string, lane: Lane, cost: number): number {
    let units = lanes[lane].costAhead(tenantId, cost) * msPerUnit[lane];
    // Real-time work always goes first, so all of it is ahead of a batch task.
    if (lane === 'batch') units += lanes.realtime.totalCost * msPerUnit.realtime;
    return units / slots;
  }

  function shed(task: Pick<Task, 'tenantId' | 'lane'>, reason: ShedEvent['reason'], estimatedWaitMs: number): Error {
    tenant(task.tenantId).stats.shed++;
    emit(hooks, 'onShed', { tenantId: task.tenantId, lane: task.lane, reason, estimatedWaitMs });
    const retryAfterSeconds = Math.max(1, Math.ceil(estimatedWaitMs / 1000));
    return reason === 'queue_full'
      ? errors.rateLimited(retryAfterSeconds, 'too many tasks queued for this tenant')
      : errors.overloaded(retryAfterSeconds);
  }

  function detach(task: Task): void {
    clearTimeout(task.timer);
    if (task.onAbort) task.signal?.removeEventListener('abort', task.onAbort);
  }

  function dequeue(task: Task): boolean {
    if (!lanes[task.lane].remove(task)) return false;
    tenant(task.tenantId).stats.queued--;
    detach(task);
    return true;
  }

  function pump(): void {
    while (running < slots) {
      const task = lanes.realtime.pop() ?? lanes.batch.pop();
      if (!task) return;
      const state = tenant(task.tenantId);
      state.stats.queued--;
      detach(task);
      const startedAt = now();
      if (task.deadlineAt !== undefined && startedAt > task.deadlineAt) {
        task.fail(shed(task, 'deadline', estimateWaitMs(task.tenantId, task.lane, task.cost)));
        continue;
      }
      const waitMs = startedAt - task.enqueuedAt;
      state.stats.started++;
      state.stats.totalWaitMs += waitMs;
      state.stats.inFlight++;
      running++;
      emit(hooks, 'onQueued', { tenantId: task.tenantId, lane: task.lane, waitMs, cost: task.cost });
      task.start();
    }
  }

  /** Frees the task's slot and learns its service time. */
  function release(state: TenantState, lane: Lane, cost: number, startedAt: number): void {
    running--;
    state.stats.inFlight--;
    if (cost > 0) {
      const current = msPerUnit[lane];
      // One task that held its slot far longer than its cost says (it waited on I/O, or the machine stalled) moves
      // the estimate at most SAMPLE_CAP times: otherwise it alone would shed every large request after it.
      const sample = Math.min((now() - startedAt) / cost, current === 0 ? Number.POSITIVE_INFINITY : SAMPLE_CAP * current);
      msPerUnit[lane] = current === 0 ? sample : current + EWMA_ALPHA * (sample - current);
    }
  }

  function finish(task: Task, startedAt: number): void {
    release(tenant(task.tenantId), task.lane, task.cost, startedAt);
    // Settle the caller before starting the next task, but never recurse deeply.
    queueMicrotask(pump);
  }

  function enqueue<T>(
    options: TaskOptions & { deadlineAt: number | undefined; admissionCost: number },
    fn: (signal: AbortSignal | undefined) => Promise<T> | T,
  ): Promise<T> {
    const { tenantId, lane, signal, deadlineAt } = options;
    const cost = options.cost ?? 1;
    if (!(cost >= 0) || !Number.isFinite(cost)) return Promise.reject(errors.validation(`task cost must be a non-negative number, got ${cost}`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const state = tenant(tenantId);
    adopt(state, options);

    if (state.stats.queued >= maxQueuedPerTenant) {
      return Promise.reject(shed({ tenantId, lane }, 'queue_full', estimateWaitMs(tenantId, lane, cost)));
    }
    const enqueuedAt = now();
    if (deadlineAt !== undefined && options.admissionCost > 0) {
      const waitMs = estimateWaitMs(tenantId, lane, options.admissionCost);
      if (enqueuedAt + waitMs + options.admissionCost * msPerUnit[lane] > deadlineAt) {
        return Promise.reject(shed({ tenantId, lane }, 'deadline', waitMs));
      }
    }

    return new Promise<T>((resolve, reject) => {
      const task: Task = {
        tenantId,
        lane,
        cost,
        enqueuedAt,
        deadlineAt,
        signal,
        fail: reject,
        start() {
          const startedAt = now();
          new Promise<T>((res) => res(fn(signal))).then(
            (value) => {
              finish(task, startedAt);
              resolve(value);
            },
            (error: unknown) => {
              finish(task, startedAt);
              reject(error);
            },
          );
        },
      };
      if (deadlineAt !== undefined) {
        // Answer 503 when the deadline passes in the queue, not when the client has given up.
        task.timer = setTimeout(() => {
          if (dequeue(task)) reject(shed(task, 'deadline', estimateWaitMs(tenantId, lane, cost)));
        }, Math.max(0, deadlineAt - enqueuedAt));
      }
      if (signal) {
        task.onAbort = () => {
          if (!dequeue(task)) return;
          state.stats.cancelled++;
          reject(signal.reason);
        };
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      lanes[lane].push(task);
      state.stats.admitted++;
      state.stats.queued++;
      pump();
    });
  }

  function canRunNow(tenantId: string, maxConcurrent?: number): boolean {
    if (running >= slots || lanes.realtime.size > 0) return false;
    const state = tenants.get(tenantId);
    const cap = maxConcurrent === undefined ? (state?.maxConcurrent ?? defaultMaxConcurrent) : Math.max(1, maxConcurrent);
    return (state?.stats.inFlight ?? 0) < cap;
  }

  return {
    canRunNow,
    runNow(options, fn) {
      const { tenantId } = options;
      if (!canRunNow(tenantId, options.maxConcurrent)) return undefined;
      const cost = options.cost ?? 1;
      const state = tenant(tenantId);
      adopt(state, options);
      state.stats.admitted++;
      state.stats.started++;
      state.stats.inFlight++;
      running++;
      emit(hooks, 'onQueued', { tenantId, lane: 'realtime', waitMs: 0, cost });
      const startedAt = now();
      try {
        return { value: fn() };
      } finally {
        release(state, 'realtime', cost, startedAt);
        // Work queued meanwhile starts on the next microtask, as after any task.
        if (lanes.batch.size > 0 || lanes.realtime.size > 0) queueMicrotask(pump);
      }
    },
    run(options, fn) {
      const deadlineAt = options.deadlineMs === undefined ? undefined : now() + options.deadlineMs;
      return enqueue({ ...options, deadlineAt, admissionCost: options.cost ?? 1 }, fn);
    },
    async runSliced(options, fn) {
      const { rows } = options;
      const sliceRows = Math.max(1, options.sliceRows ?? defaultSliceRows);
      const deadlineAt = options.deadlineMs === undefined ? undefined : now() + options.deadlineMs;
      const results: Awaited<ReturnType<typeof fn>>[] = [];
      for (let start = 0; start < rows; start += sliceRows) {
        const end = Math.min(rows, start + sliceRows);
        // Only the first slice is admitted against the whole batch; later ones just honour the deadline.
        const admissionCost = start === 0 ? rows : 0;
        const result = await enqueue(
          { ...options, lane: options.lane ?? 'batch', cost: end - start, deadlineAt, admissionCost },
          (signal) => fn(start, end, signal),
        );
        results.push(result);
      }
      return results;
    },
    stats(tenantId) {
      return { ...tenant(tenantId).stats };
    },
    allStats() {
      return new Map([...tenants].map(([id, state]) => [id, { ...state.stats }]));
    },
    estimateWaitMs,
    forgetTenant(tenantId) {
      const state = tenants.get(tenantId);
      if (state && (state.stats.inFlight > 0 || state.stats.queued > 0)) return false;
      tenants.delete(tenantId);
      return true;
    },
  };
}
