/**
 * Attacks every tenant route with tenant A's key against tenant B's resources
 * (ids in paths, bodies, query strings and an X-Tenant-Id header), and checks
 * that the table covers every registered route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../../support/test-platform.js';
import { publishModel, tinyModel } from '../../support/serving-models.js';
import { ATTACKS, type AttackContext, OPERATOR_ROUTES } from './attack-table.js';
import { XGBOOST_FILE } from './model-attacks.js';

let t: TestPlatform;
let ctx: AttackContext;

before(async () => {
  // No job runner: B's training job stays queued for the job attacks.
  t = await startTestPlatform({ TENANTML_TRAINING_WORKERS: '0' });
  const a = await t.createTenant('attacker');
  const b = await t.createTenant('tenant-bee');
  const csv = { 'content-type': 'text/csv' };
  for (const [key, name, rows] of [
    [b.key, 'victim-only', 'x,label\n1,VICTIM-CANARY\n2,VICTIM-CANARY\n'],
    [b.key, 'shared', 'x,label\n1,VICTIM-CANARY\n2,VICTIM-CANARY\n'],
    [a.key, 'shared', 'x,label\n1,mine\n'],
    [a.key, 'mine', 'x,label\n1,mine\n'],
  ] as const) {
    await t.call(key, 'POST', '/v1/datasets', { name, columns: [{ name: 'x', type: 'integer' }, { name: 'label', type: 'string' }] });
    const res = await t.call(key, 'POST', `/v1/datasets/${name}/rows`, rows, csv);
    assert.equal(res.statusCode, 200, res.body);
  }
  // Serving: B owns the model `victim-only` (A owns no model).
  await publishModel(t.platform, b.id, 'victim-only', tinyModel(5, 7));
  for (const name of ['victim-model', 'victim-import']) {
    const res = await t.call(b.key, 'POST', `/v1/models/${name}/versions`, XGBOOST_FILE, { 'content-type': 'application/json' });
    assert.equal(res.statusCode, 201, res.body);
  }
  const job = await t.platform.models.queue.enqueue(b.id, { name: 'victim-model', dataset: 'victim-only', target: 'x', objective: 'reg:squarederror' });
  // RAG: B owns namespace `victim-only` and a `shared` one; A owns its own `shared`.
  for (const [key, ns, text] of [
    [b.key, 'victim-only', 'VICTIM-CANARY secret pricing memo'],
    [b.key, 'shared', 'VICTIM-CANARY shared memo about pricing'],
    [a.key, 'shared', 'mine: a memo about pricing'],
  ] as const) {
    assert.equal((await t.call(key, 'POST', '/v1/namespaces', { name: ns })).statusCode, 201);
    const res = await t.call(key, 'POST', `/v1/namespaces/${ns}/documents`, { id: 'victim-doc', text });
    assert.equal(res.statusCode, 201, res.body);
  }
  ctx = { t, a, b, spoof: { 'x-tenant-id': b.id, 'x-tenant': b.id }, victimJobId: job.id };
});
after(() => t.close());

describe('tenant A attacks tenant B', () => {
  for (const row of ATTACKS) {
    test(`${row.route}: ${row.does} → ${row.expect}`, async () => {
      const res = await row.attack(ctx);
      assert.equal(res.statusCode, row.expect, res.body);
      if (row.expect === 404) {
        // /v2 routes speak the Open Inference Protocol's {"error": "<message>"}.
        const error = res.json().error;
        if (typeof error === 'string') assert.match(error, / not found$/, 'never 403: existence does not leak');
        else assert.equal(error.code, 'not_found', 'never 403: existence does not leak');
      }
      await row.verify?.(res, ctx);
    });
  }
  for (const op of OPERATOR_ROUTES) {
    test(`${op.route}: a tenant key is refused (403)`, async () => {
      const [method, path] = op.route.split(' ') as ['GET', string];
      assert.ok(path);
      const res = await t.call(ctx.a.key, method, op.url(ctx.b), op.body);
      assert.equal(res.statusCode, 403, res.body);
    });
  }
  test("B's data is intact after every attack", async () => {
    for (const name of ['victim-only', 'shared']) {
      const rows = (await t.call(ctx.b.key, 'GET', `/v1/datasets/${name}/rows`)).json().rows;
      assert.deepEqual(rows, [{ x: 1, label: 'VICTIM-CANARY' }, { x: 2, label: 'VICTIM-CANARY' }]);
    }
    assert.equal((await t.call(ctx.b.key, 'GET', '/v1/datasets')).json().datasets.length, 2);
    assert.equal((await t.call(t.adminKey, 'GET', '/v1/admin/tenants/tenant-bee')).json().status, 'active');
  });
});

test('routes-covered: every registered tenant and operator route has a row in the attack table', () => {
  const covered = new Set([...ATTACKS.map((r) => r.route), ...OPERATOR_ROUTES.map((r) => r.route)]);
  const missing = t.app.registeredRoutes
    .filter((r) => r.auth !== 'public')
    .map((r) => `${r.method} ${r.url}`)
    .filter((r) => !covered.has(r));
  assert.deepEqual(missing, [], 'add attack rows for these routes');
  const registered = new Set(t.app.registeredRoutes.map((r) => `${r.method} ${r.url}`));
  assert.deepEqual([...covered].filter((r) => !registered.has(r)), [], 'attack rows for routes that do not exist');
});

test('every non-public route names its operation', () => {
  const unnamed = t.app.registeredRoutes.filter((r) => r.auth !== 'public' && !r.operation);
  assert.deepEqual(unnamed, []);
});
