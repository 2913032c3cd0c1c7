/**
 * Attack rows for the model, predict and job routes: tenant A's key against
 * B's models (`victim-model`, `victim-import`) and B's queued job.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AttackContext, AttackRow } from './attack-table.js';
import { assertNoVictimData } from './attack-table.js';

/** A model file saved by XGBoost, used to give B its models and to attack with. */
export const XGBOOST_FILE = readFileSync(new URL('../../fixtures/xgboost/poisson.json', import.meta.url));

async function victimVersions(ctx: AttackContext, name: string): Promise<number[]> {
  const res = await ctx.t.call(ctx.b.key, 'GET', `/v1/models/${name}`);
  assert.equal(res.statusCode, 200, `B still has ${name}`);
  return res.json().versions.map((v: { version: number }) => v.version);
}

async function victimJobState(ctx: AttackContext): Promise<string> {
  return (await ctx.t.call(ctx.b.key, 'GET', `/v1/jobs/${ctx.victimJobId}`)).json().state;
}

const notFound = (route: string, does: string, attack: AttackRow['attack'], verify?: AttackRow['verify']): AttackRow => ({
  route,
  does,
  attack,
  expect: 404,
  async verify(res, ctx) {
    assertNoVictimData(res, ctx);
    await verify?.(res, ctx);
  },
});

export const MODEL_ATTACKS: AttackRow[] = [
  {
    route: 'POST /v1/models',
    does: "trains from B's dataset: answered exactly like a dataset that does not exist",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/models', { name: 'stolen', dataset: 'victim-only', target: 'x', objective: 'reg:squarederror' }, spoof),
    expect: 400,
    async verify(res, ctx) {
      assertNoVictimData(res, ctx);
      const none = await ctx.t.call(ctx.a.key, 'POST', '/v1/models', { name: 'stolen', dataset: 'never-existed', target: 'x', objective: 'reg:squarederror' });
      assert.equal(res.json().error.message.replace('victim-only', 'X'), none.json().error.message.replace('never-existed', 'X'));
      assert.equal((await ctx.t.call(ctx.a.key, 'GET', '/v1/jobs')).json().jobs.length, 0, 'no job queued');
    },
  },
  {
    route: 'POST /v1/models',
    does: "trains while naming B's tenant id in the body",
    attack: ({ t, a, b }) => t.call(a.key, 'POST', '/v1/models', { name: 'x', dataset: 'mine', target: 'x', objective: 'reg:squarederror', tenantId: b.id }),
    expect: 400,
  },
  {
    route: 'GET /v1/models',
    does: "lists models with B's id in a header: only A's",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/models', undefined, spoof),
    expect: 200,
    async verify(res, ctx) {
      assertNoVictimData(res, ctx);
      assert.deepEqual(res.json().models, []);
    },
  },
  notFound('GET /v1/models/:name', "reads B's model", ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/models/victim-model', undefined, spoof)),
  notFound('DELETE /v1/models/:name', "deletes B's model", ({ t, a, spoof }) => t.call(a.key, 'DELETE', '/v1/models/victim-model', undefined, spoof), async (_r, ctx) =>
    assert.deepEqual(await victimVersions(ctx, 'victim-model'), [1]),
  ),
  notFound('GET /v1/models/:name/versions/:version', "reads B's version", ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/models/victim-model/versions/1', undefined, spoof)),
  notFound('DELETE /v1/models/:name/versions/:version', "deletes B's version", ({ t, a, spoof }) => t.call(a.key, 'DELETE', '/v1/models/victim-model/versions/1', undefined, spoof), async (_r, ctx) =>
    assert.deepEqual(await victimVersions(ctx, 'victim-model'), [1]),
  ),
  notFound('GET /v1/models/:name/versions/:version/xgboost.json', "exports B's model", ({ t, a, spoof }) =>
    t.call(a.key, 'GET', '/v1/models/victim-model/versions/1/xgboost.json', undefined, spoof),
  ),
  notFound('POST /v1/models/:name/aliases/:alias', "moves B's production alias", ({ t, a, spoof }) =>
    t.call(a.key, 'POST', '/v1/models/victim-model/aliases/production', { version: 1 }, spoof),
  ),
  notFound('POST /v1/models/:name/predict', "predicts with B's model", ({ t, a, spoof }) =>
    t.call(a.key, 'POST', '/v1/models/victim-model/predict', { instances: [[1, 2, 3, 4, 5, 6]] }, spoof),
  ),
  notFound('POST /v1/models/:name/forecast', "forecasts with B's model", ({ t, a, spoof }) =>
    t.call(a.key, 'POST', '/v1/models/victim-model/forecast', { series: {} }, spoof),
  ),
  {
    route: 'POST /v1/models/:name/versions',
    does: "uploads a version to B's model name: it lands in A",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/models/victim-import/versions', XGBOOST_FILE, { ...spoof, 'content-type': 'application/json' }),
    expect: 201,
    async verify(res, ctx) {
      assert.deepEqual(res.json().lineage, [ctx.a.id]);
      assert.equal(res.json().version, 1, "A's own first version");
      assert.deepEqual(await victimVersions(ctx, 'victim-import'), [1]);
      assert.equal((await ctx.t.call(ctx.a.key, 'DELETE', '/v1/models/victim-import')).statusCode, 200);
    },
  },
  {
    route: 'PUT /v1/models/:name/policy',
    does: "sets the policy of B's model name: it lands in A",
    attack: ({ t, a, spoof }) => t.call(a.key, 'PUT', '/v1/models/victim-model/policy', { policy: 'global' }, spoof),
    expect: 200,
    async verify(_res, ctx) {
      assert.equal((await ctx.t.call(ctx.b.key, 'GET', '/v1/models/victim-model')).json().policy, 'own');
    },
  },
  {
    route: 'GET /v1/jobs',
    does: "lists jobs with B's id in a header: only A's",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/jobs', undefined, spoof),
    expect: 200,
    async verify(res, ctx) {
      assertNoVictimData(res, ctx);
      assert.equal(res.body.includes(ctx.victimJobId!), false);
    },
  },
  notFound('GET /v1/jobs/:id', "reads B's job by id", ({ t, a, spoof, victimJobId }) => t.call(a.key, 'GET', `/v1/jobs/${victimJobId}`, undefined, spoof)),
  notFound('POST /v1/jobs/:id/cancel', "cancels B's job", ({ t, a, spoof, victimJobId }) => t.call(a.key, 'POST', `/v1/jobs/${victimJobId}/cancel`, undefined, spoof), async (_r, ctx) =>
    assert.equal(await victimJobState(ctx), 'queued'),
  ),
];

/** Operator-only model routes. */
export const MODEL_OPERATOR_ROUTES: { route: string; url: () => string; body?: unknown }[] = [
  { route: 'POST /v1/admin/global-models', url: () => '/v1/admin/global-models', body: { name: 'g', dataset: 'shared', target: 'x', objective: 'reg:squarederror' } },
  { route: 'GET /v1/admin/global-models', url: () => '/v1/admin/global-models' },
  { route: 'GET /v1/admin/global-models/:name', url: () => '/v1/admin/global-models/g' },
];
