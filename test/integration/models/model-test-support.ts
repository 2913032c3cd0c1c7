/** Helpers for the model tests: upload demand data, wait for jobs. */
import assert from 'node:assert/strict';
import { type DemandOptions, demandCsv } from '../../../bench/_synthetic-sales.js';
import type { JobInfo, JobProgress } from '../../../src/models/job-queue.js';

/** A job that succeeded: it has a result, rounds and timings. */
export type SucceededJob = JobInfo & { result: NonNullable<JobInfo['result']>; progress: JobProgress & Required<Pick<JobProgress, 'roundsDone' | 'timings'>> };
import type { TestPlatform, TestTenant } from '../../support/test-platform.js';

/** Creates dataset `name` for the tenant and uploads synthetic demand rows. */
export async function uploadDemand(t: TestPlatform, who: TestTenant, name: string, o: DemandOptions): Promise<void> {
  const created = await t.call(who.key, 'POST', '/v1/datasets', {
    name,
    columns: [
      { name: 'store', type: 'string' },
      { name: 'product', type: 'string' },
      { name: 'day', type: 'date' },
      { name: 'price', type: 'number' },
      { name: 'promo', type: 'boolean' },
      { name: 'units', type: 'integer' },
    ],
  });
  assert.equal(created.statusCode, 201, created.body);
  const res = await t.call(who.key, 'POST', `/v1/datasets/${name}/rows`, demandCsv(o), { 'content-type': 'text/csv' });
  assert.equal(res.statusCode, 200, res.body);
}

/** Polls a job until it leaves queued/running; returns its final JSON. */
export async function waitForJob(t: TestPlatform, who: TestTenant, id: string, timeoutMs = 60_000): Promise<JobInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await t.call(who.key, 'GET', `/v1/jobs/${id}`);
    assert.equal(res.statusCode, 200, res.body);
    const job = res.json() as JobInfo;
    if (job.state !== 'queued' && job.state !== 'running') return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Submits a training request and waits for it to succeed; returns the job. */
export async function trainAndWait(t: TestPlatform, who: TestTenant, body: Record<string, unknown>): Promise<SucceededJob> {
  const res = await t.call(who.key, 'POST', '/v1/models', body);
  assert.equal(res.statusCode, 202, res.body);
  const job = await waitForJob(t, who, res.json().job.id);
  assert.equal(job.state, 'succeeded', JSON.stringify(job));
  assert.ok(job.result && job.progress.timings && job.progress.roundsDone !== undefined);
  return job as SucceededJob;
}

/** Polls `probe` every 25 ms until it returns something truthy; fails after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | null | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
