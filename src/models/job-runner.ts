/**
 * Runs training jobs from the queue: `slots` loops, each claiming one job at a
 * time, heart-beating its lease (which also carries progress and brings back
 * cancellation requests), and recording the outcome. A job whose lease is lost
 * (another worker took it over after a stall) is aborted here; a published
 * version is never duplicated because publishing is idempotent per job id.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isAppError } from '../errors.js';
import type { ClaimedJob, JobProgress, TrainingJobQueue } from './job-queue.js';

/** What running a job produced. */
export interface JobOutcome {
  version: number;
  progress: JobProgress;
}

/** Runs one claimed job; must stop soon after `signal` aborts. */
export type JobExecutor = (job: ClaimedJob, ctx: { signal: AbortSignal; progress: (p: JobProgress) => void }) => Promise<JobOutcome>;

/** Runner settings. */
export interface JobRunnerOptions {
  /** Jobs run at once by this process. */
  slots: number;
  /** Lease length; a worker silent for this long loses its job to another. */
  leaseMs: number;
  /** Pause between claims when the queue is empty. */
  pollMs: number;
  workerId?: string;
  onError?: (error: unknown) => void;
}

class Cancelled extends Error {
  constructor(readonly why: 'cancelled' | 'lease-lost' | 'shutdown' | 'tenant-gone') {
    super(`job stopped: ${why}`);
    this.name = 'AbortError';
  }
}

interface Running {
  job: ClaimedJob;
  controller: AbortController;
}

/** Claims and runs training jobs until stopped. */
export class JobRunner {
  readonly workerId: string;
  private readonly running = new Map<string, Running>();
  private readonly loops: Promise<void>[] = [];
  private stopping = false;
  private wakers: (() => void)[] = [];

  constructor(
    private readonly queue: TrainingJobQueue,
    private readonly execute: JobExecutor,
    private readonly options: JobRunnerOptions,
  ) {
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  }

  /** Starts the claim loops. */
  start(): void {
    for (let i = 0; i < Math.max(1, this.options.slots); i++) this.loops.push(this.loop());
  }

  /** Ends the pause of idle loops (a job was just queued in this process). */
  wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }

  /** Stops a job of this process at once (a cancel request arrived here). */
  cancelLocal(tenantId: string, jobId: string): void {
    this.running.get(`${tenantId}/${jobId}`)?.controller.abort(new Cancelled('cancelled'));
  }

  /** Stops every job of a tenant (it was purged). */
  abortTenant(tenantId: string): void {
    for (const r of this.running.values()) if (r.job.tenantId === tenantId) r.controller.abort(new Cancelled('tenant-gone'));
  }

  /** Jobs running in this process. */
  activeJobs(): number {
    return this.running.size;
  }

  /** Stops claiming, aborts running jobs and gives them back to the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    for (const r of this.running.values()) r.controller.abort(new Cancelled('shutdown'));
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let job: ClaimedJob | null = null;
      try {
        job = await this.queue.claim(this.workerId, this.options.leaseMs);
      } catch (err) {
        this.options.onError?.(err);
      }
      if (job === null) {
        await this.pause();
        continue;
      }
      await this.run(job);
    }
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.pollMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakers.push(done);
    });
  }

  private async run(job: ClaimedJob): Promise<void> {
    const key = `${job.tenantId}/${job.id}`;
    const controller = new AbortController();
    this.running.set(key, { job, controller });
    let progress: JobProgress = {};
    let beating = Promise.resolve();
    const beat = async () => {
      try {
        const state = await this.queue.heartbeat(job, this.workerId, this.options.leaseMs, progress);
        if (!state.owned) controller.abort(new Cancelled('lease-lost'));
        else if (state.cancelRequested) controller.abort(new Cancelled('cancelled'));
      } catch (err) {
        this.options.onError?.(err);
      }
    };
    // Heartbeats stay well inside the lease, and often enough for progress and cancellation to show.
    const timer = setInterval(() => {
      beating = beating.then(beat);
    }, Math.max(50, Math.min(2000, Math.floor(this.options.leaseMs / 3))));
    try {
      const outcome = await this.execute(job, { signal: controller.signal, progress: (p) => (progress = { ...progress, ...p }) });
      clearInterval(timer);
      await beating;
      await this.queue.succeed(job, outcome.version, outcome.progress);
    } catch (err) {
      clearInterval(timer);
      await beating;
      await this.settleFailure(job, controller.signal, err).catch((e: unknown) => this.options.onError?.(e));
    } finally {
      this.running.delete(key);
    }
  }

  private async settleFailure(job: ClaimedJob, signal: AbortSignal, err: unknown): Promise<void> {
    const why = signal.aborted && signal.reason instanceof Cancelled ? signal.reason.why : null;
    if (why === 'cancelled') return this.queue.markCancelled(job, this.workerId);
    if (why === 'shutdown') return this.queue.release(job, this.workerId);
    if (why === 'lease-lost' || why === 'tenant-gone') return;
    // Bad input or an invalid model is final; anything else (a crash, the store down) is retried.
    const final = isAppError(err) && (err.code === 'validation_failed' || err.code === 'not_found' || err.code === 'bad_request');
    const code = isAppError(err) ? err.code : 'internal';
    const message = err instanceof Error ? err.message : String(err);
    if (!final) this.options.onError?.(err);
    await this.queue.fail(job, this.workerId, { code, message }, !final);
  }
}
