/**
 * `tenantml worker` as a real process against PostgreSQL: SIGKILL it in the
 * middle of training, start another, and the job is retried and published
 * exactly once. PGlite cannot be shared between processes, so in embedded
 * mode the same story runs with two in-process runners, one of which hangs
 * (stops heart-beating) mid-training.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { TrainingJobQueue } from '../../../src/models/job-queue.js';
import { JobRunner } from '../../../src/models/job-runner.js';
import { runTrainingJob } from '../../../src/models/model-trainer.js';
import { testMode } from '../../support/test-database.js';
import { startTestPlatform, TEST_ADMIN_KEY, type TestPlatform, type TestTenant } from '../../support/test-platform.js';
import { until, uploadDemand, waitForJob } from './model-test-support.js';
import { compiledLayoutKey } from '../../../src/models/artifact-publish.js';

const BIN = fileURLToPath(new URL('../../../bin/tenantml.mjs', import.meta.url));
const TRAIN = {
  name: 'survivor',
  dataset: 'sales',
  target: 'units',
  objective: 'count:poisson',
  features: ['store', 'product', 'price', 'promo', 'day'],
  params: { numBoostRound: 400, maxDepth: 8, eta: 0.05 },
};

let t: TestPlatform;
let a: TestTenant;

before(async () => {
  t = await startTestPlatform({ TENANTML_TRAINING_WORKERS: '0' });
  a = await t.createTenant('survivor');
  await uploadDemand(t, a, 'sales', { seed: 11, stores: 4, products: 5, days: 150 });
});
after(() => t.close());


function startWorker(): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [BIN, 'worker'], {
    env: {
      ...process.env,
      DATABASE_URL: t.database.url!,
      TENANTML_DATA_DIR: t.dataDir,
      TENANTML_ADMIN_KEY: TEST_ADMIN_KEY,
      TENANTML_JOB_LEASE_MS: '1500',
      TENANTML_JOB_POLL_MS: '50',
      LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

async function runningWithProgress(jobId: string) {
  return until('the job to run some rounds', 60_000, async () => {
    const j = (await t.call(a.key, 'GET', `/v1/jobs/${jobId}`)).json();
    return j.state === 'running' && (j.progress.roundsDone ?? 0) > 0 && j;
  });
}

async function waitSucceeded(jobId: string): Promise<void> {
  const done = await waitForJob(t, a, jobId, 120_000);
  assert.equal(done.state, 'succeeded', JSON.stringify(done));
  assert.equal(done.attempts, 2, 'the first attempt died, the second finished');
}

/** Checked once no worker is running the job any more. */
async function assertPublishedOnce(jobId: string): Promise<void> {
  const model = (await t.call(a.key, 'GET', '/v1/models/survivor')).json();
  assert.equal(model.versions.length, 1, 'exactly one version');
  assert.equal(model.versions[0].jobId, jobId);
  // Both attempts may have reserved a version number; only the winner's artifact remains.
  const kept = model.versions[0].artifact.key;
  assert.deepEqual(await t.platform.artifacts.list(`tenants/${a.id}/models/survivor/`), [kept, compiledLayoutKey(kept)], 'no stray artifact');
  const p = await t.call(a.key, 'POST', '/v1/models/survivor/predict', { rows: [{ store: 's1', product: 'p1' }] });
  assert.equal(p.statusCode, 200, p.body);
}

test('the tenantml command prints its usage', () => {
  const res = spawnSync(process.execPath, [BIN, 'help'], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /worker\s+run training jobs/);
});

if (testMode() === 'servers') {
  test('SIGKILL a worker process mid-training: another worker retries the job, one version is published', async () => {
    // Long enough that the process is still training when its first progress shows.
    const long = { ...TRAIN, params: { ...TRAIN.params, numBoostRound: 1500 } };
    const { job } = (await t.call(a.key, 'POST', '/v1/models', long)).json();
    const first = startWorker();
    try {
      await runningWithProgress(job.id);
    } catch (err) {
      first.child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${first.output()}`);
    }
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const second = startWorker();
    try {
      await waitSucceeded(job.id);
    } finally {
      second.child.kill('SIGTERM');
      await once(second.child, 'exit');
    }
    await assertPublishedOnce(job.id);
  });
} else {
  test('a worker that hangs mid-training loses its lease; another runner retries the job, one version is published', async () => {
    const { models, datasets } = t.platform;
    type Registry = typeof models.registry;
    const executeWith = (registry: Registry) => (j: Parameters<typeof runTrainingJob>[1], ctx: Parameters<typeof runTrainingJob>[2]) =>
      runTrainingJob({ datasets, pool: models.pool, registry }, j, ctx);
    const { job } = (await t.call(a.key, 'POST', '/v1/models', TRAIN)).json();
    // The hung worker's heartbeats never reach the database, and it wakes to publish only once
    // another runner has taken the job over, however fast its own training was.
    const silent = Object.create(models.queue) as TrainingJobQueue;
    let hung = false;
    silent.heartbeat = async (job, worker, lease, progress) => (hung ? { owned: true, cancelRequested: false } : models.queue.heartbeat(job, worker, lease, progress));
    const stalled = Object.create(models.registry) as Registry;
    stalled.publish = async (...args) => {
      await until('another runner to take the job over', 60_000, async () => (await t.call(a.key, 'GET', `/v1/jobs/${job.id}`)).json().attempts === 2);
      return models.registry.publish(...args);
    };
    const first = new JobRunner(silent, executeWith(stalled), { slots: 1, leaseMs: 600, pollMs: 20, workerId: 'hung' });
    first.start();
    await runningWithProgress(job.id);
    hung = true;
    const second = new JobRunner(models.queue, executeWith(models.registry), { slots: 1, leaseMs: 600, pollMs: 20, workerId: 'healthy' });
    second.start();
    try {
      await waitSucceeded(job.id);
    } finally {
      // Stopping waits for a publish in flight: the hung worker may be finishing the same job.
      await second.stop();
      await first.stop();
    }
    await assertPublishedOnce(job.id);
  });
}
