import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

test('defaults are the embedded deployment', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8080);
  assert.equal(c.databaseUrl, undefined, 'no DATABASE_URL → PGlite');
  assert.equal(c.redisUrl, undefined, 'no REDIS_URL → in-process state');
  assert.match(c.dataDir, /\.tenantml$/);
  assert.deepEqual(c.artifactStore, { kind: 'folder', dir: `${c.dataDir}/artifacts` });
  assert.ok(Object.isFrozen(c));
});

test('values are parsed and typed', () => {
  const c = loadConfig({
    PORT: '9000',
    DATABASE_URL: 'postgres://u@db:5432/x',
    REDIS_URL: 'redis://cache:6379',
    TENANTML_MAX_UPLOAD: '64MB',
    LOG_LEVEL: 'debug',
    TENANTML_ARTIFACT_STORE: 's3',
    TENANTML_S3_BUCKET: 'models',
    TENANTML_S3_ENDPOINT: 'http://s3:9000',
  });
  assert.equal(c.port, 9000);
  assert.equal(c.databaseUrl, 'postgres://u@db:5432/x');
  assert.equal(c.maxUploadBytes, 64 * 1024 * 1024);
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.artifactStore.kind, 's3');
});

test('the idle job poll is rare on the embedded database, where each poll runs on the event loop', () => {
  assert.equal(loadConfig({}).models.jobPollMs, 10_000);
  assert.equal(loadConfig({ DATABASE_URL: 'postgres://u@db:5432/x' }).models.jobPollMs, 500);
  assert.equal(loadConfig({ TENANTML_JOB_POLL_MS: '250' }).models.jobPollMs, 250);
  assert.equal(loadConfig({ DATABASE_URL: 'postgres://u@db:5432/x', TENANTML_JOB_POLL_MS: '2000' }).models.jobPollMs, 2000);
});

test('a serving process lets its old generation grow to three times the live heap unless told otherwise', () => {
  assert.equal(loadConfig({}).heapGrowthPercent, 200);
  assert.equal(loadConfig({ TENANTML_HEAP_GROWTH_PERCENT: '0' }).heapGrowthPercent, 0, "0 leaves V8's own factor");
  assert.throws(() => loadConfig({ TENANTML_HEAP_GROWTH_PERCENT: '-5' }), /TENANTML_HEAP_GROWTH_PERCENT/);
});

test('every bad value is reported by its variable name, all at once', () => {
  try {
    loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', TENANTML_MAX_UPLOAD: 'lots', TENANTML_ADMIN_KEY: 'short', TENANTML_ARTIFACT_STORE: 'redis' });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL', 'TENANTML_MAX_UPLOAD', 'TENANTML_ADMIN_KEY', 'TENANTML_ARTIFACT_STORE=redis needs REDIS_URL']) {
      assert.match(text, new RegExp(name), `${name} is named`);
    }
  }
});

test('serving: cache budget, tenant share, policy and warm list', () => {
  const d = loadConfig({}).serving;
  assert.deepEqual(d, { cacheBytes: 256 * 1024 * 1024, tenantMaxShare: 0.5, policy: 'gdsf', loadThreads: 1, warm: [] });
  const c = loadConfig({
    TENANTML_MODEL_CACHE_BYTES: '64MB',
    TENANTML_MODEL_CACHE_TENANT_SHARE: '25',
    TENANTML_MODEL_CACHE_POLICY: 'lru',
    TENANTML_MODEL_WARM: 'acme/churn, beta/demand',
    TENANTML_MODEL_LOAD_THREADS: '0',
  }).serving;
  assert.deepEqual(c, { cacheBytes: 64 * 1024 * 1024, tenantMaxShare: 0.25, policy: 'lru', loadThreads: 0, warm: [{ tenantId: 'acme', model: 'churn' }, { tenantId: 'beta', model: 'demand' }] });
  assert.throws(() => loadConfig({ TENANTML_MODEL_LOAD_THREADS: '-1' }), /TENANTML_MODEL_LOAD_THREADS/);
  assert.throws(() => loadConfig({ TENANTML_MODEL_WARM: 'acme', TENANTML_MODEL_CACHE_POLICY: 'fifo' }), (e: Error) => /TENANTML_MODEL_WARM/.test(e.message) && /TENANTML_MODEL_CACHE_POLICY/.test(e.message));
});

test('models: streamed batches run on one thread by default; 0 runs them on the event loop', () => {
  assert.equal(loadConfig({}).models.batchPredictThreads, 1);
  assert.equal(loadConfig({ TENANTML_BATCH_PREDICT_THREADS: '0' }).models.batchPredictThreads, 0);
  assert.equal(loadConfig({ TENANTML_BATCH_PREDICT_THREADS: '2' }).models.batchPredictThreads, 2);
  assert.throws(() => loadConfig({ TENANTML_BATCH_PREDICT_THREADS: '-1' }), /TENANTML_BATCH_PREDICT_THREADS/);
});
