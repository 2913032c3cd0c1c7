import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../../support/test-platform.js';

let t: TestPlatform;
before(async () => {
  t = await startTestPlatform();
});
after(() => t.close());

test('the operator creates, lists, reads and patches tenants; limits merge with defaults', async () => {
  const res = await t.call(t.adminKey, 'POST', '/v1/admin/tenants', { id: 'shop-1', name: 'Shop One', limits: { requestsPerSecond: 5 } });
  assert.equal(res.statusCode, 201);
  const body = res.json();
  assert.match(body.apiKey, /^tml_[a-z0-9]{12}_[A-Za-z0-9]{32}$/);
  assert.equal(body.tenant.limits.requestsPerSecond, 5);
  assert.equal(body.tenant.effectiveLimits.requestsPerSecond, 5);
  assert.equal(body.tenant.effectiveLimits.burst, 200, 'unset limits take the documented default');
  assert.equal(body.tenant.isolation, 'pooled');

  const generated = await t.call(t.adminKey, 'POST', '/v1/admin/tenants', { name: 'No id given' });
  assert.equal(generated.statusCode, 201);
  assert.match(generated.json().tenant.id, /^t[a-z0-9]{11}$/);

  const list = await t.call(t.adminKey, 'GET', '/v1/admin/tenants?limit=1');
  assert.equal(list.json().tenants.length, 1);
  assert.ok(list.json().nextCursor);
  const next = await t.call(t.adminKey, 'GET', `/v1/admin/tenants?limit=10&cursor=${list.json().nextCursor}`);
  assert.ok(next.json().tenants.length >= 1);

  const patched = await t.call(t.adminKey, 'PATCH', '/v1/admin/tenants/shop-1', { name: 'Shop 1', limits: { burst: 9 }, allowPooledTraining: true });
  assert.equal(patched.statusCode, 200);
  assert.deepEqual(patched.json().limits, { requestsPerSecond: 5, burst: 9 });
  assert.equal(patched.json().allowPooledTraining, true);
  assert.equal((await t.call(t.adminKey, 'GET', '/v1/admin/tenants/shop-1')).json().name, 'Shop 1');
});

test('bad tenant input is a 400 naming the field; duplicates are 409; unknown ids 404', async () => {
  const bad = await t.call(t.adminKey, 'POST', '/v1/admin/tenants', { name: 'x', limits: { burst: -1 } });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().error.message, /limits\.burst/);
  const unknown = await t.call(t.adminKey, 'POST', '/v1/admin/tenants', { name: 'x', plan: 'gold' });
  assert.equal(unknown.statusCode, 400);
  assert.match(unknown.json().error.message, /unknown field 'plan'/);
  const badId = await t.call(t.adminKey, 'POST', '/v1/admin/tenants', { id: 'Bad/Id', name: 'x' });
  assert.equal(badId.statusCode, 400);
  assert.match(badId.json().error.message, /id/);
  await t.createTenant('dup');
  assert.equal((await t.call(t.adminKey, 'POST', '/v1/admin/tenants', { id: 'dup', name: 'again' })).statusCode, 409);
  assert.equal((await t.call(t.adminKey, 'GET', '/v1/admin/tenants/nope')).statusCode, 404);
  assert.equal((await t.call(t.adminKey, 'PATCH', '/v1/admin/tenants/nope', { name: 'x' })).statusCode, 404);
  assert.equal((await t.call(t.adminKey, 'DELETE', '/v1/admin/tenants/nope')).statusCode, 404);
  assert.equal((await t.call(t.adminKey, 'DELETE', '/v1/admin/tenants/Not..Valid')).statusCode, 404);
});

test('keys: missing or wrong keys get 401; tenant and operator keys cannot swap roles', async () => {
  const a = await t.createTenant('keys-a');
  assert.equal((await t.call(null, 'GET', '/v1/datasets')).statusCode, 401);
  assert.equal((await t.call('garbage', 'GET', '/v1/datasets')).statusCode, 401);
  const wrongSecret = a.key.slice(0, -4) + (a.key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  assert.equal((await t.call(wrongSecret, 'GET', '/v1/datasets')).statusCode, 401);
  const asOperator = await t.call(t.adminKey, 'GET', '/v1/datasets');
  assert.equal(asOperator.statusCode, 403);
  assert.equal((await t.call(a.key, 'GET', '/v1/admin/tenants')).statusCode, 403);
  assert.equal((await t.call(a.key, 'GET', '/v1/datasets')).statusCode, 200);
});

test('a revoked key stops working at once, other keys keep working; last use is recorded', async () => {
  const a = await t.createTenant('keys-b');
  const second = await t.call(t.adminKey, 'POST', '/v1/admin/tenants/keys-b/keys', { name: 'ci' });
  assert.equal(second.statusCode, 201);
  const { apiKey, keyId } = second.json();
  assert.equal((await t.call(apiKey, 'GET', '/v1/datasets')).statusCode, 200, 'works, and is now in the auth cache');
  assert.equal((await t.call(t.adminKey, 'DELETE', `/v1/admin/tenants/keys-b/keys/${keyId}`)).statusCode, 204);
  assert.equal((await t.call(apiKey, 'GET', '/v1/datasets')).statusCode, 401, 'revoked key rejected despite the cache');
  assert.equal((await t.call(a.key, 'GET', '/v1/datasets')).statusCode, 200);
  const keys = (await t.call(t.adminKey, 'GET', '/v1/admin/tenants/keys-b/keys')).json().keys as { keyId: string; revokedAt: string | null; lastUsedAt: string | null }[];
  assert.equal(keys.length, 2);
  assert.ok(keys.find((k) => k.keyId === keyId)?.revokedAt);
  // last_used_at is written off the request path; give it a moment.
  for (let i = 0; i < 50 && !keys.find((k) => k.keyId !== keyId)?.lastUsedAt; i++) {
    await new Promise((r) => setTimeout(r, 20));
    keys.splice(0, keys.length, ...(await t.call(t.adminKey, 'GET', '/v1/admin/tenants/keys-b/keys')).json().keys);
  }
  assert.ok(keys.find((k) => k.keyId !== keyId)?.lastUsedAt, 'last use recorded');
  // Another tenant's key id under this tenant is not found.
  const other = await t.createTenant('keys-c');
  const otherKeyId = other.key.split('_')[1]!;
  assert.equal((await t.call(t.adminKey, 'DELETE', `/v1/admin/tenants/keys-b/keys/${otherKeyId}`)).statusCode, 404);
  assert.equal((await t.call(other.key, 'GET', '/v1/datasets')).statusCode, 200, 'the other tenant key was not revoked');
});

test('a verified key is remembered by its exact header: other spellings are verified on their own, a wrong secret never rides on it, revocation drops them all', async () => {
  const a = await t.createTenant('keys-d');
  const second = (await t.call(t.adminKey, 'POST', '/v1/admin/tenants/keys-d/keys', { name: 'ci' })).json() as { apiKey: string; keyId: string };
  const as = (authorization: string) => t.call(null, 'GET', '/v1/datasets', undefined, { authorization });
  const spellings = [`Bearer ${second.apiKey}`, `bearer   ${second.apiKey}`, `BEARER ${second.apiKey}  `];
  for (const header of spellings) {
    assert.equal((await as(header)).statusCode, 200, header);
    assert.equal((await as(header)).statusCode, 200, `${header}, again (remembered)`);
  }
  const wrongSecret = second.apiKey.slice(0, -4) + (second.apiKey.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  assert.equal((await as(`Bearer ${wrongSecret}`)).statusCode, 401, 'the key id is verified, the secret is not');
  assert.equal((await t.call(t.adminKey, 'DELETE', `/v1/admin/tenants/keys-d/keys/${second.keyId}`)).statusCode, 204);
  for (const header of spellings) assert.equal((await as(header)).statusCode, 401, `${header} after revocation`);
  assert.equal((await t.call(a.key, 'GET', '/v1/datasets')).statusCode, 200, 'the first key still works');
});

test('a suspended tenant gets 403 tenant_suspended on every tenant route, and works again when reactivated', async () => {
  const a = await t.createTenant('susp');
  assert.equal((await t.call(a.key, 'GET', '/v1/datasets')).statusCode, 200);
  await t.call(t.adminKey, 'PATCH', '/v1/admin/tenants/susp', { status: 'suspended' });
  for (const [method, url] of [['GET', '/v1/datasets'], ['POST', '/v1/datasets'], ['GET', '/v1/datasets/x']] as const) {
    const res = await t.call(a.key, method, url, method === 'POST' ? { name: 'x' } : undefined);
    assert.equal(res.statusCode, 403, `${method} ${url}`);
    assert.equal(res.json().error.code, 'tenant_suspended');
  }
  await t.call(t.adminKey, 'PATCH', '/v1/admin/tenants/susp', { status: 'active' });
  assert.equal((await t.call(a.key, 'GET', '/v1/datasets')).statusCode, 200);
});

test('errors carry a request id, echoed from X-Request-Id when given', async () => {
  const res = await t.call(null, 'GET', '/v1/datasets', undefined, { 'x-request-id': 'req-abc-123' });
  assert.equal(res.json().error.requestId, 'req-abc-123');
  assert.equal(res.headers['x-request-id'], 'req-abc-123');
  const unknown = await t.call(null, 'GET', '/nowhere');
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().error.code, 'not_found');
  // Without one (or with one that is not a plain token), the server makes its own, different on every request.
  const made = [unknown, await t.call(null, 'GET', '/nowhere', undefined, { 'x-request-id': 'no spaces allowed' })].map((r) => r.headers['x-request-id']);
  for (const id of made) assert.match(String(id), /^[0-9a-f]{12}-[0-9a-z]+$/);
  assert.notEqual(made[0], made[1]);
  assert.equal(unknown.json().error.requestId, made[0]);
});

test('health, readiness, metrics and OpenAPI answer without a key', async () => {
  assert.equal((await t.call(null, 'GET', '/healthz')).statusCode, 200);
  const ready = await t.call(null, 'GET', '/readyz');
  assert.equal(ready.statusCode, 200);
  assert.equal(ready.json().checks.database, 'ok');
  const metrics = await t.call(null, 'GET', '/metrics');
  assert.match(metrics.body, /tenantml_http_requests_total/);
  const spec = (await t.call(null, 'GET', '/openapi.json')).json();
  assert.ok(spec.paths['/v1/datasets/{name}/rows'], 'OpenAPI lists the dataset routes');
  assert.ok(spec.paths['/v1/admin/tenants'], 'OpenAPI lists the operator routes');
  assert.equal((await t.call(null, 'GET', '/docs')).statusCode < 400, true);
});
