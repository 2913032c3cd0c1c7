/**
 * The durable training-job queue in Postgres. Jobs are tenant rows (RLS), so
 * reading, cancelling, heart-beating and finishing a job all run inside
 * `withTenant(job.tenantId)`. Only `claim` uses `withSystem`: choosing the
 * next job fairly means seeing every tenant's queue at once, which RLS (by
 * design) never allows a tenant transaction to do. The claim returns the
 * job's tenant id and nothing else crosses tenants.
 *
 * Leases: a claimed job is `running` with `lease_expires_at`; the worker
 * extends it by heart-beating. A job whose lease expired (its worker died) is
 * queued again by the next claim, or failed after `max_attempts`.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/db.js';
import { errors } from '../errors.js';
import { TRAIN_PAYLOAD_VERSION, type TrainJobPayload, type TrainRequest } from './train-request.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Progress of a running job. */
export interface JobProgress {
  roundsDone?: number;
  totalRounds?: number;
  /** The validation metric after the last round (on the holdout rows). */
  validationError?: number;
  metric?: string;
  /** Where the time went, filled in when the job finishes. */
  timings?: { readMs: number; trainMs: number; evaluateMs: number; publishMs: number };
}

/** A job as the API shows it. */
export interface JobInfo {
  id: string;
  model: string;
  state: JobState;
  progress: JobProgress;
  attempts: number;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error?: { code: string; message: string };
  result?: { model: string; version: number };
}

/** A job a worker holds the lease of. */
export interface ClaimedJob {
  tenantId: string;
  id: string;
  payload: TrainJobPayload;
  attempts: number;
}

interface JobRow {
  tenant_id: string;
  id: string;
  model_name: string;
  payload_version: number;
  payload: TrainJobPayload;
  state: JobState;
  progress: JobProgress;
  error: { code: string; message: string } | null;
  result_version: number | null;
  attempts: number;
  cancel_requested: boolean;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

function jobFromRow(r: JobRow): JobInfo {
  return {
    id: r.id,
    model: r.model_name,
    state: r.state,
    progress: r.progress ?? {},
    attempts: Number(r.attempts),
    cancelRequested: r.cancel_requested,
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    ...(r.error ? { error: r.error } : {}),
    ...(r.result_version !== null ? { result: { model: r.model_name, version: Number(r.result_version) } } : {}),
  };
}

/** Job ids sort by creation time, so lists page in order. */
function newJobId(): string {
  return `job_${Date.now().toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

/** The training-job queue. */
export class TrainingJobQueue {
  constructor(
    private readonly db: Db,
    private readonly maxAttempts = 3,
  ) {}

  /** Queues a training job for the tenant. */
  async enqueue(tenantId: string, request: TrainRequest): Promise<JobInfo> {
    const id = newJobId();
    const payload: TrainJobPayload = { payloadVersion: TRAIN_PAYLOAD_VERSION, tenantId, jobId: id, request };
    const res = await this.db.withTenant(tenantId, (tx) =>
      tx.query<JobRow>(
        `insert into training_jobs (tenant_id, id, payload_version, payload, model_name, state, max_attempts)
         values ($1, $2, $3, $4, $5, 'queued', $6) returning *`,
        [tenantId, id, TRAIN_PAYLOAD_VERSION, JSON.stringify(payload), request.name, this.maxAttempts],
      ),
    );
    return jobFromRow(res.rows[0]!);
  }

  async get(tenantId: string, id: string): Promise<JobInfo> {
    const res = await this.db.withTenant(tenantId, (tx) => tx.query<JobRow>('select * from training_jobs where id = $1', [id]));
    if (!res.rows[0]) throw errors.notFound('job', id);
    return jobFromRow(res.rows[0]);
  }

  /** The tenant's jobs, newest first. */
  async list(tenantId: string, limit: number, cursor?: string): Promise<{ jobs: JobInfo[]; nextCursor: string | null }> {
    const res = await this.db.withTenant(tenantId, (tx) =>
      tx.query<JobRow>('select * from training_jobs where ($1::text is null or id < $1) order by id desc limit $2', [cursor ?? null, limit + 1]),
    );
    const jobs = res.rows.slice(0, limit).map(jobFromRow);
    return { jobs, nextCursor: res.rows.length > limit ? (jobs.at(-1)?.id ?? null) : null };
  }

  /**
   * Cancels a job: a queued one at once; a running one is flagged, and its
   * worker stops it within a round or a heartbeat. Finished jobs are a 409.
   */
  async cancel(tenantId: string, id: string): Promise<JobInfo> {
    return this.db.withTenant(tenantId, async (tx) => {
      const cur = await tx.query<JobRow>('select * from training_jobs where id = $1 for update', [id]);
      const row = cur.rows[0];
      if (!row) throw errors.notFound('job', id);
      if (row.state === 'succeeded' || row.state === 'failed') throw errors.conflict(`job '${id}' already ${row.state}`);
      if (row.state === 'cancelled') return jobFromRow(row);
      const res = await tx.query<JobRow>(
        row.state === 'queued'
          ? `update training_jobs set state = 'cancelled', cancel_requested = true, finished_at = now() where id = $1 returning *`
          : 'update training_jobs set cancel_requested = true where id = $1 returning *',
        [id],
      );
      return jobFromRow(res.rows[0]!);
    });
  }

  /**
   * Takes the next job for `workerId`: first re-queues jobs whose lease expired,
   * then picks, among queued jobs, the one whose tenant has the fewest running
   * jobs, then the oldest last start (round-robin), then the oldest job.
   */
  async claim(workerId: string, leaseMs: number): Promise<ClaimedJob | null> {
    return this.db.withSystem(async (tx) => {
      await tx.query(
        `update training_jobs set
           state = case when cancel_requested then 'cancelled' when attempts >= max_attempts then 'failed' else 'queued' end,
           error = case when not cancel_requested and attempts >= max_attempts
                        then jsonb_build_object('code', 'worker_lost', 'message', 'the worker running this job stopped answering ' || attempts || ' times')
                        else error end,
           finished_at = case when cancel_requested or attempts >= max_attempts then now() else null end,
           lease_owner = null, lease_expires_at = null
         where state = 'running' and lease_expires_at < clock_timestamp()`,
      );
      const pick = await tx.query<{ tenant_id: string; id: string }>(
        `with running as (
           select tenant_id, count(*) as n from training_jobs where state = 'running' group by tenant_id
         ), last_start as (
           select tenant_id, max(started_at) as at from training_jobs where started_at is not null group by tenant_id
         )
         select j.tenant_id, j.id from training_jobs j
           left join running r on r.tenant_id = j.tenant_id
           left join last_start l on l.tenant_id = j.tenant_id
          where j.state = 'queued'
          order by coalesce(r.n, 0), l.at nulls first, j.created_at, j.id
          limit 1
          for update of j skip locked`,
      );
      const chosen = pick.rows[0];
      if (!chosen) return null;
      const res = await tx.query<JobRow>(
        `update training_jobs set state = 'running', attempts = attempts + 1, lease_owner = $3,
           lease_expires_at = clock_timestamp() + ($4::int * interval '1 millisecond'), started_at = clock_timestamp(), error = null
         where tenant_id = $1 and id = $2 returning *`,
        [chosen.tenant_id, chosen.id, workerId, leaseMs],
      );
      const row = res.rows[0]!;
      return { tenantId: row.tenant_id, id: row.id, payload: row.payload, attempts: Number(row.attempts) };
    });
  }

  /** Extends the lease and records progress; tells the worker whether it still owns the job and whether to cancel. */
  async heartbeat(job: ClaimedJob, workerId: string, leaseMs: number, progress: JobProgress): Promise<{ owned: boolean; cancelRequested: boolean }> {
    const res = await this.db.withTenant(job.tenantId, (tx) =>
      tx.query<{ cancel_requested: boolean }>(
        `update training_jobs set lease_expires_at = clock_timestamp() + ($3::int * interval '1 millisecond'), progress = $4
          where id = $1 and state = 'running' and lease_owner = $2 returning cancel_requested`,
        [job.id, workerId, leaseMs, JSON.stringify(progress)],
      ),
    );
    const row = res.rows[0];
    return { owned: row !== undefined, cancelRequested: row?.cancel_requested ?? false };
  }

  /** Marks the job succeeded with the version it published (also if its lease had lapsed: the version exists). */
  async succeed(job: ClaimedJob, version: number, progress: JobProgress): Promise<void> {
    await this.db.withTenant(job.tenantId, (tx) =>
      tx.query(
        `update training_jobs set state = 'succeeded', result_version = $2, progress = $3, finished_at = now(),
           lease_owner = null, lease_expires_at = null
         where id = $1 and state in ('running', 'queued')`,
        [job.id, version, JSON.stringify(progress)],
      ),
    );
  }

  /** Records a failure: retried later when `retry` and attempts remain, failed for good otherwise. */
  async fail(job: ClaimedJob, workerId: string, error: { code: string; message: string }, retry: boolean): Promise<void> {
    await this.db.withTenant(job.tenantId, (tx) =>
      tx.query(
        `update training_jobs set
           state = case when $3 and attempts < max_attempts then 'queued' else 'failed' end,
           finished_at = case when $3 and attempts < max_attempts then null else now() end,
           error = $4, lease_owner = null, lease_expires_at = null
         where id = $1 and state = 'running' and lease_owner = $2`,
        [job.id, workerId, retry, JSON.stringify(error)],
      ),
    );
  }

  /** Marks a running job cancelled (its worker stopped it). */
  async markCancelled(job: ClaimedJob, workerId: string): Promise<void> {
    await this.db.withTenant(job.tenantId, (tx) =>
      tx.query(
        `update training_jobs set state = 'cancelled', finished_at = now(), lease_owner = null, lease_expires_at = null
          where id = $1 and state = 'running' and lease_owner = $2`,
        [job.id, workerId],
      ),
    );
  }

  /** Gives a job back without counting the attempt (graceful shutdown). */
  async release(job: ClaimedJob, workerId: string): Promise<void> {
    await this.db.withTenant(job.tenantId, (tx) =>
      tx.query(
        `update training_jobs set state = 'queued', attempts = greatest(attempts - 1, 0), lease_owner = null, lease_expires_at = null
          where id = $1 and state = 'running' and lease_owner = $2`,
        [job.id, workerId],
      ),
    );
  }
}
