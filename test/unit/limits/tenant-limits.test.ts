import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAppError } from '../../../src/errors.js';
import { DEFAULT_TENANT_LIMITS, ratePolicyFor, resolveTenantLimits } from '../../../src/limits/tenant-limits.js';

describe('tenant limits', () => {
  it('merges a partial object over the defaults', () => {
    const limits = resolveTenantLimits({ requestsPerSecond: 5, maxConcurrent: 2 });
    assert.equal(limits.requestsPerSecond, 5);
    assert.equal(limits.maxConcurrent, 2);
    assert.equal(limits.burst, DEFAULT_TENANT_LIMITS.burst);
    assert.equal(limits.dailyPredictions, DEFAULT_TENANT_LIMITS.dailyPredictions);
  });

  it('names the offending field', () => {
    assert.throws(
      () => resolveTenantLimits({ burst: 2.5 }),
      (e) => isAppError(e) && e.code === 'validation_failed' && e.details?.field === 'limits.burst',
    );
    assert.throws(
      () => resolveTenantLimits({ dailyPredictions: -1 }),
      (e) => isAppError(e) && e.details?.field === 'limits.dailyPredictions',
    );
    assert.throws(
      () => resolveTenantLimits({ routes: { bogus: { burst: 1 } } } as never),
      (e) => isAppError(e) && e.details?.field === 'limits.routes.bogus',
    );
  });

  it('lets a route class carry its own bucket, and others share the default bucket', () => {
    const limits = resolveTenantLimits({ requestsPerSecond: 20, burst: 40, routes: { train: { requestsPerSecond: 0.5 } } });
    assert.deepEqual(ratePolicyFor(limits, 'train'), { bucket: 'train', rate: 0.5, burst: 1 });
    assert.deepEqual(ratePolicyFor(limits, 'predict'), { bucket: 'default', rate: 20, burst: 40 });
    assert.deepEqual(ratePolicyFor(limits, 'rag'), ratePolicyFor(limits, 'default'));
  });

  it('keeps earlier overrides when a later patch changes one field', () => {
    const first = resolveTenantLimits({ routes: { ingest: { requestsPerSecond: 2, burst: 10 } } });
    const patched = resolveTenantLimits({ routes: { ingest: { burst: 4 } } }, first);
    assert.deepEqual(patched.routes.ingest, { requestsPerSecond: 2, burst: 4 });
  });
});
