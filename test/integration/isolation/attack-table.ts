/**
 * The isolation attack table: for every tenant route, what tenant A's key tries
 * against tenant B's resources, and what must come back. A route registered
 * without a row here fails `routes-covered` in isolation.test.ts.
 */
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestPlatform, TestTenant } from '../../support/test-platform.js';
import { MODEL_ATTACKS, MODEL_OPERATOR_ROUTES } from './model-attacks.js';

export interface AttackContext {
  t: TestPlatform;
  /** The attacker. */
  a: TestTenant;
  /** The victim: owns `victim-only` datasets and a dataset named `shared` too. */
  b: TestTenant;
  /** Headers that try to smuggle B's identity in. */
  spoof: Record<string, string>;
  /** A training job of B's (queued). */
  victimJobId?: string;
}

export interface AttackRow {
  /** `METHOD /path` exactly as registered. */
  route: string;
  /** What the attack does, for the test name. */
  does: string;
  attack(ctx: AttackContext): Promise<LightMyRequestResponse>;
  /** Expected status. */
  expect: number;
  /** Extra checks: nothing of B returned, nothing of B changed. */
  verify?(res: LightMyRequestResponse, ctx: AttackContext): Promise<void>;
}

/** Fails if a response body mentions B's id or its planted canary value (echoing the attacker's own input is not a leak). */
export function assertNoVictimData(res: LightMyRequestResponse, ctx: AttackContext): void {
  for (const secret of [ctx.b.id, 'VICTIM-CANARY']) {
    assert.ok(!res.body.includes(secret), `response leaks '${secret}': ${res.body.slice(0, 300)}`);
  }
}

/** B's namespace still holds its document, unchanged. */
async function assertVictimNamespaceIntact(ctx: AttackContext, ns = 'victim-only'): Promise<void> {
  const res = await ctx.t.call(ctx.b.key, 'GET', `/v1/namespaces/${ns}/documents/victim-doc`);
  assert.equal(res.statusCode, 200, res.body);
  assert.ok(res.json().chunks[0].text.includes('VICTIM-CANARY'));
}

async function victimRowCount(ctx: AttackContext, dataset: string): Promise<number> {
  return (await ctx.t.call(ctx.b.key, 'GET', `/v1/datasets/${dataset}`)).json().rowCount;
}

const v2Input = { inputs: [{ name: 'input__0', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] };
let loadsOfB = 0;

export const ATTACKS: AttackRow[] = [
  {
    route: 'GET /v1/datasets',
    does: "lists datasets with B's id in a header",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/datasets', undefined, spoof),
    expect: 200,
    async verify(res, ctx) {
      assertNoVictimData(res, ctx);
      assert.deepEqual(res.json().datasets.map((d: { name: string }) => d.name).sort(), ['mine', 'shared']);
    },
  },
  {
    route: 'GET /v1/datasets',
    does: "lists datasets with B's id in the query",
    attack: ({ t, a, b }) => t.call(a.key, 'GET', `/v1/datasets?tenant_id=${b.id}`),
    expect: 400,
  },
  {
    route: 'POST /v1/datasets',
    does: "creates a dataset while claiming to be B (header and body)",
    attack: ({ t, a, b, spoof }) => t.call(a.key, 'POST', '/v1/datasets', { name: 'victim-only', tenant_id: b.id }, spoof),
    expect: 400,
  },
  {
    route: 'POST /v1/datasets',
    does: "creates a dataset with B's id in a header: it lands in A",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/datasets', { name: 'created-by-a' }, spoof),
    expect: 201,
    async verify(_res, ctx) {
      assert.equal((await ctx.t.call(ctx.b.key, 'GET', '/v1/datasets/created-by-a')).statusCode, 404, 'not created in B');
      assert.equal((await ctx.t.call(ctx.a.key, 'GET', '/v1/datasets/created-by-a')).statusCode, 200, 'created in A');
    },
  },
  {
    route: 'GET /v1/datasets/:name',
    does: "reads B's dataset by name",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/datasets/victim-only', undefined, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'GET /v1/datasets/:name',
    does: "reads a dataset name both have: gets A's",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/datasets/shared', undefined, spoof),
    expect: 200,
    async verify(res) {
      assert.equal(res.json().rowCount, 1, "A's own dataset has 1 row; B's has 2");
    },
  },
  {
    route: 'POST /v1/datasets/:name/rows',
    does: "appends rows to B's dataset",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/datasets/victim-only/rows', 'x,label\n1,evil\n', { ...spoof, 'content-type': 'text/csv' }),
    expect: 404,
    async verify(_res, ctx) {
      assert.equal(await victimRowCount(ctx, 'victim-only'), 2);
    },
  },
  {
    route: 'POST /v1/datasets/:name/rows',
    does: "appends rows whose tenant_id field names B to a shared name",
    attack: ({ t, a, b }) => t.call(a.key, 'POST', '/v1/datasets/shared/rows', { rows: [{ x: 9, label: 'evil', tenant_id: b.id }] }),
    expect: 400,
    async verify(_res, ctx) {
      assert.equal(await victimRowCount(ctx, 'shared'), 2);
    },
  },
  {
    route: 'GET /v1/datasets/:name/rows',
    does: "reads B's rows",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/datasets/victim-only/rows', undefined, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'GET /v1/datasets/:name/rows',
    does: "reads rows of a shared name: only A's",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/datasets/shared/rows', undefined, spoof),
    expect: 200,
    async verify(res, ctx) {
      assertNoVictimData(res, ctx);
      assert.equal(res.json().rows.length, 1);
    },
  },
  // Serving (/v1 predict through the model cache, /v2 Open Inference Protocol, Triton repository extension).
  {
    route: 'POST /v1/models/:name/predict',
    does: "predicts with B's model by name",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/models/victim-only/predict', { instances: [[1, 2, 3]] }, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'GET /v2/models/:name',
    does: "reads the metadata of B's model",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v2/models/victim-only', undefined, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'GET /v2/models/:name/versions/:version',
    does: "reads the metadata of B's model version",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v2/models/victim-only/versions/1', undefined, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'GET /v2/models/:name/ready',
    does: "asks whether B's model is ready",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v2/models/victim-only/ready', undefined, spoof),
    expect: 404,
  },
  {
    route: 'GET /v2/models/:name/versions/:version/ready',
    does: "asks whether B's model version is ready",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v2/models/victim-only/versions/1/ready', undefined, spoof),
    expect: 404,
  },
  {
    route: 'POST /v2/models/:name/infer',
    does: "runs B's model by name",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v2/models/victim-only/infer', v2Input, spoof),
    expect: 404,
    async verify(res, ctx) {
      assertNoVictimData(res, ctx);
      assert.equal((await ctx.t.call(ctx.b.key, 'POST', '/v2/models/victim-only/infer', v2Input)).statusCode, 200, 'B still serves it');
    },
  },
  {
    route: 'POST /v2/models/:name/versions/:version/infer',
    does: "runs B's model version by name",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v2/models/victim-only/versions/1/infer', v2Input, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'POST /v2/repository/index',
    does: "lists the repository with B's id in a header: only A's models (none)",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v2/repository/index', {}, spoof),
    expect: 200,
    async verify(res, ctx) {
      assertNoVictimData(res, ctx);
      assert.deepEqual(res.json(), []);
    },
  },
  {
    route: 'POST /v2/repository/models/:name/load',
    does: "loads B's model into the cache",
    async attack({ t, a, b, spoof }) {
      loadsOfB = t.platform.serving.cache.stats().tenants[b.id]?.loads ?? 0;
      return t.call(a.key, 'POST', '/v2/repository/models/victim-only/load', {}, spoof);
    },
    expect: 404,
    async verify(_res, ctx) {
      assert.equal(ctx.t.platform.serving.cache.stats().tenants[ctx.b.id]?.loads ?? 0, loadsOfB, "nothing of B's was loaded");
    },
  },
  {
    route: 'POST /v2/repository/models/:name/unload',
    does: "unloads B's loaded model",
    async attack({ t, a, b, spoof }) {
      assert.equal((await t.call(b.key, 'POST', '/v2/repository/models/victim-only/load', {})).statusCode, 200);
      return t.call(a.key, 'POST', '/v2/repository/models/victim-only/unload', {}, spoof);
    },
    expect: 404,
    async verify(_res, ctx) {
      assert.ok(ctx.t.platform.serving.cache.has({ tenantId: ctx.b.id, model: 'victim-only', version: '1' }), "B's model is still loaded");
    },
  },
  ...MODEL_ATTACKS,
  {
    route: 'GET /v1/usage',
    does: "reads usage with B's id in a header: gets A's own",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/usage', undefined, spoof),
    expect: 200,
    async verify(res, ctx) {
      assertNoVictimData(res, ctx);
      const body = res.json();
      assert.equal(body.tenantId, ctx.a.id);
      const bStorage = (await ctx.t.call(ctx.b.key, 'GET', '/v1/usage')).json().storage.used;
      assert.ok(body.storage.used < bStorage, "A's storage is its own (smaller than B's)");
    },
  },
  {
    route: 'GET /v1/usage',
    does: "reads usage with B's id in the query",
    attack: ({ t, a, b }) => t.call(a.key, 'GET', `/v1/usage?tenant_id=${b.id}`),
    expect: 400,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
];

/** Operator routes: a tenant key must get 403 on each, whatever it names. */
export const OPERATOR_ROUTES: { route: string; url: (b: TestTenant) => string; body?: unknown }[] = [
  { route: 'POST /v1/admin/tenants', url: () => '/v1/admin/tenants', body: { name: 'x' } },
  { route: 'GET /v1/admin/tenants', url: () => '/v1/admin/tenants' },
  { route: 'GET /v1/admin/tenants/:id', url: (b) => `/v1/admin/tenants/${b.id}` },
  { route: 'PATCH /v1/admin/tenants/:id', url: (b) => `/v1/admin/tenants/${b.id}`, body: { status: 'suspended' } },
  { route: 'DELETE /v1/admin/tenants/:id', url: (b) => `/v1/admin/tenants/${b.id}` },
  { route: 'POST /v1/admin/tenants/:id/keys', url: (b) => `/v1/admin/tenants/${b.id}/keys`, body: {} },
  { route: 'GET /v1/admin/tenants/:id/keys', url: (b) => `/v1/admin/tenants/${b.id}/keys` },
  { route: 'GET /v1/admin/serving', url: () => '/v1/admin/serving' },
  { route: 'GET /v1/admin/usage', url: () => '/v1/admin/usage' },
  { route: 'DELETE /v1/admin/tenants/:id/keys/:keyId', url: (b) => `/v1/admin/tenants/${b.id}/keys/${b.key.split('_')[1]}` },
  ...MODEL_OPERATOR_ROUTES,
];

/** RAG routes: namespaces, documents, jobs, search, answers and the OpenAI-compatible endpoints. */
const RAG_ATTACKS: AttackRow[] = [
  {
    route: 'POST /v1/namespaces',
    does: "creates a namespace while naming B in a header and the body",
    attack: ({ t, a, b, spoof }) => t.call(a.key, 'POST', '/v1/namespaces', { name: 'victim-only', tenant_id: b.id }, spoof),
    expect: 400,
    verify: (_res, ctx) => assertVictimNamespaceIntact(ctx),
  },
  {
    route: 'POST /v1/namespaces',
    does: "creates B's namespace name in A: it lands in A only",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/namespaces', { name: 'victim-only' }, spoof),
    expect: 201,
    async verify(_res, ctx) {
      await assertVictimNamespaceIntact(ctx);
      const mine = await ctx.t.call(ctx.a.key, 'GET', '/v1/namespaces/victim-only');
      assert.equal(mine.json().stats.documents, 0, "A's new namespace is empty, not B's");
      await ctx.t.call(ctx.a.key, 'DELETE', '/v1/namespaces/victim-only');
    },
  },
  {
    route: 'GET /v1/namespaces',
    does: "lists namespaces with B's id in a header",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/namespaces', undefined, spoof),
    expect: 200,
    async verify(res, ctx) {
      assertNoVictimData(res, ctx);
      assert.deepEqual(res.json().namespaces.map((n: { name: string }) => n.name), ['shared']);
    },
  },
  {
    route: 'GET /v1/namespaces/:ns',
    does: "describes B's namespace",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/namespaces/victim-only', undefined, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'DELETE /v1/namespaces/:ns',
    does: "deletes B's namespace",
    attack: ({ t, a, spoof }) => t.call(a.key, 'DELETE', '/v1/namespaces/victim-only', undefined, spoof),
    expect: 404,
    verify: (_res, ctx) => assertVictimNamespaceIntact(ctx),
  },
  {
    route: 'POST /v1/namespaces/:ns/documents',
    does: "uploads into B's namespace",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/namespaces/victim-only/documents', { id: 'victim-doc', text: 'overwritten by A' }, spoof),
    expect: 404,
    verify: (_res, ctx) => assertVictimNamespaceIntact(ctx),
  },
  {
    route: 'POST /v1/namespaces/:ns/documents',
    does: "replaces B's document id through a shared namespace name: only A's changes",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/namespaces/shared/documents', { id: 'victim-doc', text: 'mine: replaced by A' }, spoof),
    expect: 201,
    verify: (_res, ctx) => assertVictimNamespaceIntact(ctx, 'shared'),
  },
  {
    route: 'GET /v1/namespaces/:ns/documents',
    does: "lists B's documents",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/namespaces/victim-only/documents', undefined, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'GET /v1/namespaces/:ns/documents/:id',
    does: "reads B's document",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/namespaces/victim-only/documents/victim-doc', undefined, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'GET /v1/namespaces/:ns/documents/:id',
    does: "reads a document id both have in a shared namespace name: gets A's",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/namespaces/shared/documents/victim-doc', undefined, spoof),
    expect: 200,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'DELETE /v1/namespaces/:ns/documents/:id',
    does: "deletes B's document",
    attack: ({ t, a, spoof }) => t.call(a.key, 'DELETE', '/v1/namespaces/victim-only/documents/victim-doc', undefined, spoof),
    expect: 404,
    verify: (_res, ctx) => assertVictimNamespaceIntact(ctx),
  },
  {
    route: 'GET /v1/namespaces/:ns/jobs/:id',
    does: "reads a job of B's namespace",
    attack: ({ t, a, spoof }) => t.call(a.key, 'GET', '/v1/namespaces/victim-only/jobs/job_0', undefined, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'POST /v1/namespaces/:ns/query',
    does: "searches B's namespace",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/namespaces/victim-only/query', { query: 'pricing memo', topK: 10 }, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'POST /v1/namespaces/:ns/query',
    does: "searches a shared namespace name for B's canary: finds only A's chunks",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/namespaces/shared/query', { query: 'VICTIM-CANARY pricing memo', topK: 10 }, spoof),
    expect: 200,
    async verify(res, ctx) {
      const results = res.json().results as Array<{ text: string }>;
      assert.ok(results.length > 0 && results.every((r) => r.text.startsWith('mine')), res.body);
      assert.ok(!res.body.includes(ctx.b.id));
    },
  },
  {
    route: 'POST /v1/namespaces/:ns/ask',
    does: "asks B's namespace",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/namespaces/victim-only/ask', { question: 'what is the pricing memo?' }, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'POST /v1/chat/completions',
    does: "chats with B's namespace as the model",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/chat/completions', { model: 'rag:victim-only', messages: [{ role: 'user', content: 'pricing memo?' }] }, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'POST /v1/chat/completions',
    does: "chats with a shared namespace name about B's canary: answers from A's chunks only",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/chat/completions', { model: 'rag:shared', messages: [{ role: 'user', content: 'pricing memo' }] }, spoof),
    expect: 200,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
  {
    route: 'POST /v1/embeddings',
    does: "embeds with B's namespace as the model",
    attack: ({ t, a, spoof }) => t.call(a.key, 'POST', '/v1/embeddings', { model: 'rag:victim-only', input: 'x' }, spoof),
    expect: 404,
    verify: async (res, ctx) => assertNoVictimData(res, ctx),
  },
];

ATTACKS.push(...RAG_ATTACKS);
