/**
 * Training jobs: cancellation, fairness across tenants, and a job whose worker
 * died is retried and published exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JobRunner } from '../../../src/models/job-runner.js';
import { runTrainingJob } from '../../../src/models/model-trainer.js';
import type { TrainRequest } from '../../../src/models/train-request.js';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';
import { trainAndWait, until, uploadDemand, waitForJob } from './model-test-support.js';
import { compiledLayoutKey } from '../../../src/models/artifact-publish.js';

const SLOW: TrainRequest = {
  name: 'slow',
  dataset: 'sales',
  target: 'units',
  objective: 'count:poisson',
  features: ['store', 'product', 'price', 'promo', 'day'],
  // Long enough that a quiet machine cannot finish it before the cancel lands.
  params: { numBoostRound: 100000, maxDepth: 8, eta: 0.001 },
};


describe('cancellation', () => {
  let t: TestPlatform;
  let a: TestTenant;
  before(async () => {
    t = await startTestPlatform({ TENANTML_JOB_POLL_MS: '20' });
    a = await t.createTenant('canceller');
    await uploadDemand(t, a, 'sales', { seed: 3, stores: 3, products: 3, days: 120 });
  });
  after(() => t.close());

  test('a running job stops within a round, publishes nothing, and stays cancelled', async () => {
    const { job } = (await t.call(a.key, 'POST', '/v1/models', SLOW)).json();
    await until('rounds to run', 30_000, async () => {
      const j = (await t.call(a.key, 'GET', `/v1/jobs/${job.id}`)).json();
      return j.state === 'running' && (j.progress.roundsDone ?? 0) > 0 && j;
    });
    const res = await t.call(a.key, 'POST', `/v1/jobs/${job.id}/cancel`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().cancelRequested, true);
    const done = await waitForJob(t, a, job.id, 10_000);
    assert.equal(done.state, 'cancelled');
    // Under heavy load the job may have been re-queued (lease lost) before the cancel, so no rounds are recorded.
    assert.ok((done.progress.roundsDone ?? 0) < 100000, `stopped early: ${JSON.stringify(done.progress)}`);
    assert.equal((await t.call(a.key, 'GET', '/v1/models/slow')).statusCode, 404, 'no version published');
    assert.equal((await t.call(a.key, 'POST', `/v1/jobs/${job.id}/cancel`)).json().state, 'cancelled', 'cancelling twice is harmless');
    // The worker thread survived: the next job trains.
    const next = await trainAndWait(t, a, { ...SLOW, name: 'after', params: { numBoostRound: 5 } });
    assert.equal(next.result.version, 1);
    const finished = await t.call(a.key, 'POST', `/v1/jobs/${next.id}/cancel`);
    assert.equal(finished.statusCode, 409, 'a finished job cannot be cancelled');
  });
});

describe('queue', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({ TENANTML_TRAINING_WORKERS: '0' });
    for (const id of ['noisy', 'quiet', 'third']) await t.createTenant(id);
  });
  after(() => t.close());

  test('a queued job is cancelled at once', async () => {
    const q = t.platform.models.queue;
    const job = await q.enqueue('third', { ...SLOW, name: 'x' });
    const res = await t.platform.models.jobs.cancel('third', job.id);
    assert.equal(res.state, 'cancelled');
    assert.equal(await q.claim('w', 1000), null, 'nothing left to claim');
  });

  test("one tenant's 40 queued jobs delay another tenant's single job by at most one job per worker", async () => {
    const q = t.platform.models.queue;
    for (let i = 0; i < 40; i++) await q.enqueue('noisy', { ...SLOW, name: `n${i}` });
    const quiet = await q.enqueue('quiet', { ...SLOW, name: 'q' });
    // One worker: finishes each job before claiming the next.
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = (await q.claim('w1', 60_000))!;
      order.push(job.tenantId);
      await q.succeed(job, 1, {});
    }
    assert.ok(order.slice(0, 2).includes('quiet'), `quiet ran within two claims: ${order.join(',')}`);
    const j = await t.platform.models.jobs.get('quiet', quiet.id);
    assert.equal(j.state, 'succeeded');
  });

  test('with two workers, a tenant with a running job yields to a tenant with none', async () => {
    const q = t.platform.models.queue;
    const first = (await q.claim('w1', 60_000))!;
    assert.equal(first.tenantId, 'noisy');
    const late = await q.enqueue('third', { ...SLOW, name: 'late' });
    const second = (await q.claim('w2', 60_000))!;
    assert.equal(second.tenantId, 'third', 'fewest running jobs first');
    assert.equal(second.id, late.id);
    assert.equal(second.payload.tenantId, 'third', 'the payload carries its tenant');
    assert.equal(second.payload.payloadVersion, 1);
  });
});

describe('a worker that dies mid-job', () => {
  let t: TestPlatform;
  let a: TestTenant;
  before(async () => {
    t = await startTestPlatform({ TENANTML_TRAINING_WORKERS: '0' });
    a = await t.createTenant('crashy');
    await uploadDemand(t, a, 'sales', { seed: 5, stores: 2, products: 2, days: 60 });
  });
  after(() => t.close());

  test('its lease expires, another worker retries the job, and exactly one version is published', async () => {
    const { models } = t.platform;
    const { job } = (await t.call(a.key, 'POST', '/v1/models', { ...SLOW, params: { numBoostRound: 20 } })).json();
    // A worker claims the job and is never heard from again.
    const dead = (await models.queue.claim('dead-worker', 300))!;
    assert.equal(dead.id, job.id);
    const runner = new JobRunner(models.queue, (j, ctx) => runTrainingJob({ datasets: t.platform.datasets, pool: models.pool, registry: models.registry }, j, ctx), {
      slots: 1,
      leaseMs: 300,
      pollMs: 20,
    });
    runner.start();
    try {
      const done = await waitForJob(t, a, job.id, 30_000);
      assert.equal(done.state, 'succeeded', JSON.stringify(done));
      assert.equal(done.attempts, 2);
    } finally {
      await runner.stop();
    }
    // The dead worker comes back: its lease is gone, and publishing the same job again changes nothing.
    assert.equal((await models.queue.heartbeat(dead, 'dead-worker', 300, {})).owned, false);
    const again = await runTrainingJob({ datasets: t.platform.datasets, pool: models.pool, registry: models.registry }, dead, {
      signal: new AbortController().signal,
      progress: () => {},
    });
    assert.equal(again.version, 1);
    const model = (await t.call(a.key, 'GET', '/v1/models/slow')).json();
    assert.equal(model.versions.length, 1, 'published once');
    assert.equal(model.versions[0].jobId, job.id);
    const kept = `tenants/${a.id}/models/slow/1/model.tml`;
    assert.deepEqual(await t.platform.artifacts.list(`tenants/${a.id}/models/slow/`), [kept, compiledLayoutKey(kept)], 'no stray artifact');
  });
});
