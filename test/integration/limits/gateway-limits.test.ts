/**
 * Rate limits at the gateway: 429 + Retry-After, the RateLimit fields on every
 * tenant response (every registered tenant route, errors and unknown paths
 * included), per-route-class buckets, metrics and the usage routes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { effectiveLimits } from '../../../src/tenancy/tenant.js';
import { startTestPlatform, type TestPlatform } from '../../support/test-platform.js';

let t: TestPlatform;
before(async () => {
  t = await startTestPlatform();
});
after(() => t.close());

function assertRateLimitFields(res: { headers: Record<string, unknown>; statusCode: number }, what: string): void {
  assert.match(String(res.headers['ratelimit-policy']), /^"[a-z]+";q=\d+;w=\d+$/, `${what} (${res.statusCode}) carries RateLimit-Policy`);
  assert.match(String(res.headers.ratelimit), /^"[a-z]+";r=\d+;t=\d+$/, `${what} (${res.statusCode}) carries RateLimit`);
}

describe('rate limits at the gateway', () => {
  test('over the limit: 429 rate_limited with Retry-After and the RateLimit fields', async () => {
    const a = await t.createTenant('rl-basic', { limits: { requestsPerSecond: 0.5, burst: 3 } });
    const statuses: number[] = [];
    let last = await t.call(a.key, 'GET', '/v1/datasets');
    statuses.push(last.statusCode);
    assert.equal(last.headers['ratelimit-policy'], '"default";q=3;w=6');
    assert.equal(last.headers.ratelimit, '"default";r=2;t=2');
    for (let i = 0; i < 3; i++) {
      last = await t.call(a.key, 'GET', '/v1/datasets');
      statuses.push(last.statusCode);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal(last.json().error.code, 'rate_limited');
    assert.ok(Number(last.headers['retry-after']) >= 1 && Number(last.headers['retry-after']) <= 2, `Retry-After ${last.headers['retry-after']}`);
    assert.equal(last.headers.ratelimit, '"default";r=0;t=6');
    assertRateLimitFields(last, 'the 429');

    const other = await t.createTenant('rl-neighbour', { limits: { requestsPerSecond: 0.5, burst: 3 } });
    assert.equal((await t.call(other.key, 'GET', '/v1/datasets')).statusCode, 200, "another tenant's bucket is its own");
  });

  test('every registered tenant route answers with the RateLimit fields, whatever the status', async () => {
    const a = await t.createTenant('rl-every-route', { limits: { requestsPerSecond: 1000, burst: 1000 } });
    const tenantRoutes = t.app.registeredRoutes.filter((r) => r.auth === 'tenant');
    assert.ok(tenantRoutes.length >= 6, 'the table is not vacuous');
    for (const route of tenantRoutes) {
      const url = route.url.replace(/:[A-Za-z]+/g, 'no-such-thing');
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : {};
      const res = await t.call(a.key, route.method as 'GET', url, body);
      assert.notEqual(res.statusCode, 401, `${route.method} ${route.url} authenticated`);
      assertRateLimitFields(res, `${route.method} ${route.url}`);
    }
    const unknown = await t.call(a.key, 'GET', '/v1/no-such-route');
    assert.equal(unknown.statusCode, 404);
    assertRateLimitFields(unknown, 'an unknown path called with a tenant key');

    const anonymous = await t.call(null, 'GET', '/v1/datasets');
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.headers.ratelimit, undefined, 'no tenant, no bucket to report');
    const operator = await t.call(t.adminKey, 'GET', '/v1/admin/tenants');
    assert.equal(operator.headers.ratelimit, undefined, 'operator routes are not tenant-limited');
  });

  test('route classes with an override get their own bucket; the rest share the default one', async () => {
    const a = await t.createTenant('rl-classes', { limits: { requestsPerSecond: 100, burst: 100, routes: { ingest: { requestsPerSecond: 0.1, burst: 1 } } } });
    assert.equal((await t.call(a.key, 'POST', '/v1/datasets', { name: 'sales' })).statusCode, 201);
    const csv = { 'content-type': 'text/csv' };
    const first = await t.call(a.key, 'POST', '/v1/datasets/sales/rows', 'x\n1\n', csv);
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.headers['ratelimit-policy'], '"ingest";q=1;w=10');
    const second = await t.call(a.key, 'POST', '/v1/datasets/sales/rows', 'x\n2\n', csv);
    assert.equal(second.statusCode, 429);
    assert.match(second.json().error.message, /'ingest'/);
    const read = await t.call(a.key, 'GET', '/v1/datasets/sales');
    assert.equal(read.statusCode, 200, 'the default bucket is untouched by ingest');
    assert.equal(read.json().rowCount, 1, 'the refused upload wrote nothing');
    assert.match(String(read.headers['ratelimit-policy']), /^"default";q=100;w=1$/);

    const patched = await t.call(t.adminKey, 'PATCH', '/v1/admin/tenants/rl-classes', { limits: { routes: { ingest: { burst: 5 } } } });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.deepEqual(patched.json().effectiveLimits.routes.ingest, { requestsPerSecond: 0.1, burst: 5 }, 'a patch merges per class');
    const bad = await t.call(t.adminKey, 'PATCH', '/v1/admin/tenants/rl-classes', { limits: { routes: { gpu: { burst: 5 } } } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /gpu/);
  });

  test('throttles and admissions show in /metrics, /v1/usage and /v1/admin/usage', async () => {
    const a = await t.createTenant('rl-usage', { limits: { requestsPerSecond: 1, burst: 2, dailyPredictions: 1000 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.call(a.key, 'GET', '/v1/datasets')).statusCode);
    assert.deepEqual(statuses, [200, 200, 429, 429]);
    await t.platform.quotas.consumePredictions({ tenantId: a.id, limits: effectiveLimits((await t.platform.tenants.get(a.id)).limits) }, 40);

    const metrics = (await t.call(null, 'GET', '/metrics')).body;
    assert.match(metrics, /tenantml_throttled_total\{tenant="rl-usage",reason="rate"\} 2/);
    assert.match(metrics, /tenantml_admitted_total\{tenant="rl-usage",route_class="default"\} 2/);
    assert.match(metrics, /tenantml_ratelimit_fallback 0/);

    // Waiting out the bucket keeps this call from being throttled itself.
    await new Promise((r) => setTimeout(r, 1100));
    const usage = await t.call(a.key, 'GET', '/v1/usage');
    assert.equal(usage.statusCode, 200, usage.body);
    const u = usage.json();
    assert.equal(u.tenantId, 'rl-usage');
    assert.equal(u.limits.dailyPredictions, 1000);
    assert.equal(u.predictions.day.used, 40);
    assert.equal(u.predictions.day.remaining, 960);
    assert.match(u.predictions.day.resetAt, /T00:00:00\.000Z$/);
    assert.equal(u.requests.throttled.rate, 2);
    assert.equal(u.requests.admitted, 3, 'two before, and this one');
    assert.deepEqual(u.rateLimits, [{ bucket: 'default', requestsPerSecond: 1, burst: 2, routeClasses: ['predict', 'train', 'ingest', 'rag', 'default'] }]);

    const admin = await t.call(t.adminKey, 'GET', '/v1/admin/usage');
    assert.equal(admin.statusCode, 200, admin.body);
    const row = admin.json().tenants.find((x: { tenantId: string }) => x.tenantId === 'rl-usage');
    assert.ok(row, 'the tenant is listed');
    assert.equal(row.requests.throttled.rate, 2);
    assert.equal(row.predictions.day.used, 40);
    assert.equal(row.predictions.month.used, 40);
    assert.ok(['memory', 'redis'].includes(admin.json().limiterMode));
  });
});
