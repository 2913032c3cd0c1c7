/** The tenant-facing side of training: submit (validated), read, list, cancel. */
import type { DatasetService } from '../data/dataset-service.js';
import type { Db } from '../db/db.js';
import type { JobInfo, TrainingJobQueue } from './job-queue.js';
import type { JobRunner } from './job-runner.js';
import type { TrainRequest } from './train-request.js';
import { validateTrainRequest } from './validate-train-request.js';

/** Training jobs of tenants. */
export class TrainingJobs {
  constructor(
    private readonly db: Db,
    private readonly datasets: DatasetService,
    readonly queue: TrainingJobQueue,
    private readonly runner: () => JobRunner | null,
  ) {}

  /** Checks the request against the tenant's data, then queues it (202). */
  async submit(tenantId: string, request: TrainRequest): Promise<JobInfo> {
    await validateTrainRequest(this.db, this.datasets, tenantId, request);
    const job = await this.queue.enqueue(tenantId, request);
    this.runner()?.wake();
    return job;
  }

  get(tenantId: string, id: string): Promise<JobInfo> {
    return this.queue.get(tenantId, id);
  }

  list(tenantId: string, limit: number, cursor?: string): Promise<{ jobs: JobInfo[]; nextCursor: string | null }> {
    return this.queue.list(tenantId, limit, cursor);
  }

  /** Cancels; a job running in this process stops at once, elsewhere at its next heartbeat. */
  async cancel(tenantId: string, id: string): Promise<JobInfo> {
    const job = await this.queue.cancel(tenantId, id);
    if (job.state === 'running') this.runner()?.cancelLocal(tenantId, id);
    return job;
  }
}
