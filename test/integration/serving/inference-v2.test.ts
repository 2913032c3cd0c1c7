/**
 * The Open Inference Protocol (KServe v2 REST) over the multiplexer, checked
 * field by field: health, server and model metadata, model ready, infer with
 * FP32/FP64/INT64/BOOL tensors, versioned routes, the `{"error"}` shape, the
 * Triton repository extension, and the serving metrics and admin view.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compilePredictor, type GbdtModel } from '../../../src/gbdt/index.js';
import { FEATURES, publishModel, tinyModel } from '../../support/serving-models.js';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';

let t: TestPlatform;
let a: TestTenant;
let b: TestTenant;
let v1: GbdtModel;
let v2: GbdtModel;

const rows = [
  [1, 2, 3],
  [4.5, 0, 7],
];
const expected = (model: GbdtModel, matrix: number[][]) => Array.from(compilePredictor(model).predictBatch(Float32Array.from(matrix.flat())));

before(async () => {
  t = await startTestPlatform();
  a = await t.createTenant('oip-a');
  b = await t.createTenant('oip-b');
  v1 = tinyModel(20, 1);
  v2 = tinyModel(20, 5);
  await publishModel(t.platform, a.id, 'churn', v1);
  await publishModel(t.platform, a.id, 'churn', v2); // version 2, not promoted: production stays 1
  await publishModel(t.platform, b.id, 'secret', tinyModel(5, 3));
});
after(() => t.close());

function assertOipError(res: { statusCode: number; json(): unknown }, status: number): string {
  assert.equal(res.statusCode, status);
  const body = res.json() as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ['error'], 'v2 errors are exactly {"error": "..."}');
  assert.equal(typeof body.error, 'string');
  return body.error as string;
}

describe('health and metadata', () => {
  test('GET /v2/health/live and /v2/health/ready answer 200 with a boolean body, without a key', async () => {
    const live = await t.call(null, 'GET', '/v2/health/live');
    assert.equal(live.statusCode, 200);
    assert.deepEqual(live.json(), { live: true });
    const ready = await t.call(null, 'GET', '/v2/health/ready');
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { ready: true });
  });

  test('GET /v2 is the server metadata: name, version, extensions', async () => {
    const res = await t.call(null, 'GET', '/v2');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['extensions', 'name', 'version']);
    assert.equal(body.name, 'tenantml');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(body.extensions, ['model_repository']);
  });

  test('GET /v2/models/:name: name, versions, platform, inputs and outputs with datatype and shape', async () => {
    const res = await t.call(a.key, 'GET', '/v2/models/churn');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      name: 'churn',
      versions: ['1', '2'],
      platform: 'tenantml_gbdt',
      inputs: [{ name: 'input__0', datatype: 'FP32', shape: [-1, FEATURES.length] }],
      outputs: [{ name: 'predict', datatype: 'FP32', shape: [-1] }],
    });
    const versioned = await t.call(a.key, 'GET', '/v2/models/churn/versions/2');
    assert.equal(versioned.statusCode, 200);
    assert.equal(versioned.json().name, 'churn');
    assertOipError(await t.call(a.key, 'GET', '/v2/models/churn/versions/9'), 404);
  });

  test('GET /v2/models/:name/ready: 200 {name, ready} for a servable model, 404 otherwise', async () => {
    const res = await t.call(a.key, 'GET', '/v2/models/churn/ready');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { name: 'churn', ready: true });
    assert.deepEqual((await t.call(a.key, 'GET', '/v2/models/churn/versions/1/ready')).json(), { name: 'churn', ready: true });
    assertOipError(await t.call(a.key, 'GET', '/v2/models/nope/ready'), 404);
  });
});

describe('POST /v2/models/:name/infer', () => {
  test('FP32 [rows, features]: model_name, model_version, id echoed, one output with name/shape/datatype/data', async () => {
    const res = await t.call(a.key, 'POST', '/v2/models/churn/infer', {
      id: 'req-42',
      inputs: [{ name: 'input__0', shape: [2, 3], datatype: 'FP32', data: rows.flat() }],
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['id', 'model_name', 'model_version', 'outputs']);
    assert.equal(body.model_name, 'churn');
    assert.equal(body.model_version, '1', 'production version, as a string');
    assert.equal(body.id, 'req-42');
    assert.equal(body.outputs.length, 1);
    const [out] = body.outputs;
    assert.deepEqual(Object.keys(out).sort(), ['data', 'datatype', 'name', 'shape']);
    assert.equal(out.name, 'predict');
    assert.deepEqual(out.shape, [2]);
    assert.equal(out.datatype, 'FP32');
    assert.deepEqual(out.data, expected(v1, rows));
  });

  test('FP64 nested data, INT64, and no id: the response has no id', async () => {
    const fp64 = await t.call(a.key, 'POST', '/v2/models/churn/infer', { inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP64', data: rows }] });
    assert.equal(fp64.statusCode, 200, fp64.body);
    assert.equal('id' in fp64.json(), false);
    assert.deepEqual(fp64.json().outputs[0].data, expected(v1, rows));
    const int64 = await t.call(a.key, 'POST', '/v2/models/churn/infer', { inputs: [{ name: 'x', shape: [3], datatype: 'INT64', data: [1, 2, 3] }] });
    assert.equal(int64.statusCode, 200, int64.body);
    assert.deepEqual(int64.json().outputs[0].shape, [1]);
    assert.deepEqual(int64.json().outputs[0].data, expected(v1, [[1, 2, 3]]));
  });

  test('one input per feature, BOOL among them, a feature left out is missing', async () => {
    const res = await t.call(a.key, 'POST', '/v2/models/churn/infer', {
      inputs: [
        { name: 'x0', shape: [2], datatype: 'BOOL', data: [true, false] },
        { name: 'x1', shape: [2, 1], datatype: 'FP32', data: [[2], [0]] },
      ],
      outputs: [{ name: 'predict' }],
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().outputs[0].data, expected(v1, [[1, 2, Number.NaN], [0, 0, Number.NaN]]));
  });

  test('the versioned route serves that exact version', async () => {
    const res = await t.call(a.key, 'POST', '/v2/models/churn/versions/2/infer', { inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', data: rows.flat() }] });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().model_version, '2');
    assert.deepEqual(res.json().outputs[0].data, expected(v2, rows));
    assert.notDeepEqual(expected(v1, rows), expected(v2, rows), 'the two versions differ');
  });

  test('bad requests are 400 {"error"} naming the problem', async () => {
    const infer = (body: unknown) => t.call(a.key, 'POST', '/v2/models/churn/infer', body);
    assert.match(assertOipError(await infer({ inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', data: [1, 2, 3] }] }), 400), /needs 6 elements/);
    assert.match(assertOipError(await infer({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }), 400), /3 features/);
    assert.match(assertOipError(await infer({ inputs: [{ name: 'x', shape: [3], datatype: 'BYTES', data: ['a', 'b', 'c'] }] }), 400), /datatype/);
    assert.match(assertOipError(await infer({ inputs: [{ name: 'x', shape: [3], datatype: 'INT64', data: [1, 2.5, 3] }] }), 400), /integer/);
    assert.match(assertOipError(await infer({ inputs: [{ name: 'x', shape: [3], datatype: 'FP32', data: [1, 2, 3] }], outputs: [{ name: 'proba' }] }), 400), /unknown output/);
    assertOipError(await infer({ inputs: [] }), 400);
    assertOipError(await infer({ inputs: [{ name: 'x', shape: [3], datatype: 'FP32', data: [1, 2, 3] }], extra: 1 }), 400);
  });

  test('infer rows count against the daily prediction quota (429 with Retry-After)', async () => {
    const q = await t.createTenant('oip-quota', { limits: { dailyPredictions: 3 } });
    await publishModel(t.platform, q.id, 'm', v1);
    const infer = (n: number) =>
      t.call(q.key, 'POST', '/v2/models/m/infer', { inputs: [{ name: 'x', shape: [n, 3], datatype: 'FP32', data: Array.from({ length: n * 3 }, (_, i) => i) }] });
    assert.equal((await infer(2)).statusCode, 200);
    const refused = await infer(2);
    assert.match(assertOipError(refused, 429), /quota/i);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.equal((await infer(1)).statusCode, 200, 'the refused request charged nothing');
  });

  test('unknown model, another tenant\'s model, and no key', async () => {
    const body = { inputs: [{ name: 'x', shape: [3], datatype: 'FP32', data: [1, 2, 3] }] };
    assertOipError(await t.call(a.key, 'POST', '/v2/models/nope/infer', body), 404);
    const leak = await t.call(a.key, 'POST', '/v2/models/secret/infer', body);
    assertOipError(leak, 404);
    assert.ok(!leak.body.includes(b.id));
    assertOipError(await t.call(null, 'POST', '/v2/models/churn/infer', body), 401);
  });
});

describe('repository extension', () => {
  test('index, load and unload act on the caller\'s own models only', async () => {
    const c = await t.createTenant('oip-c');
    await publishModel(t.platform, c.id, 'alpha', tinyModel(5, 2));
    await publishModel(t.platform, c.id, 'beta', tinyModel(5, 4));
    const index = async (body?: unknown) => {
      const res = await t.call(c.key, 'POST', '/v2/repository/index', body);
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as Array<{ name: string; version?: string; state: string; reason: string }>;
    };
    assert.deepEqual(
      (await index({})).map((m) => [m.name, m.version, m.state]),
      [
        ['alpha', '1', 'UNAVAILABLE'],
        ['beta', '1', 'UNAVAILABLE'],
      ],
    );
    const load = await t.call(c.key, 'POST', '/v2/repository/models/alpha/load', {});
    assert.equal(load.statusCode, 200, load.body);
    assert.deepEqual(load.json(), {});
    assert.equal((await index()).find((m) => m.name === 'alpha')?.state, 'READY');
    assert.deepEqual((await index({ ready: true })).map((m) => m.name), ['alpha']);
    assert.equal(t.platform.serving.cache.stats().tenants[c.id]?.loads, 1, 'load warmed the cache');

    const unload = await t.call(c.key, 'POST', '/v2/repository/models/alpha/unload');
    assert.equal(unload.statusCode, 200, unload.body);
    assert.deepEqual(await index({ ready: true }), []);

    assertOipError(await t.call(c.key, 'POST', '/v2/repository/models/secret/load', {}), 404);
    assertOipError(await t.call(c.key, 'POST', '/v2/repository/models/secret/unload', {}), 404);
    assert.ok(!(await t.call(c.key, 'POST', '/v2/repository/index', {})).body.includes('secret'));
  });
});

describe('observability', () => {
  test('/metrics has per-tenant cache, load and predict metrics; /v1/admin/serving shows what is loaded', async () => {
    await t.call(a.key, 'POST', '/v1/models/churn/predict', { instances: [[1, 2, 3]] });
    const metrics = (await t.call(null, 'GET', '/metrics')).body;
    assert.match(metrics, new RegExp(`tenantml_model_cache_requests_total\\{tenant="${a.id}",result="hit"\\} \\d+`));
    assert.match(metrics, new RegExp(`tenantml_model_loads_total\\{tenant="${a.id}",outcome="admitted"\\} 2`), 'versions 1 and 2');
    assert.match(metrics, new RegExp(`tenantml_model_load_seconds_count\\{tenant="${a.id}"\\} 2`));
    assert.match(metrics, new RegExp(`tenantml_model_predict_seconds_count\\{tenant="${a.id}"\\} [1-9]`));
    assert.match(metrics, /tenantml_model_evictions_total\{tenant="[^"]+",reason="invalidated"\} 1/, 'the unload');
    assert.match(metrics, /tenantml_model_cache_bytes\{kind="resident"\} [1-9]/);

    const admin = await t.call(t.adminKey, 'GET', '/v1/admin/serving');
    assert.equal(admin.statusCode, 200);
    const view = admin.json();
    assert.equal(view.policy, 'gdsf');
    assert.ok(view.residentBytes > 0 && view.residentBytes <= view.budgetBytes);
    const churn = view.entries.find((e: { tenantId: string; model: string; version: string }) => e.tenantId === a.id && e.version === '1');
    assert.ok(churn, JSON.stringify(view.entries));
    assert.ok(churn.sizeBytes > 1000 && typeof churn.lastUsedAt === 'string' && churn.hits >= 1);
    assert.ok(view.stats.tenants[a.id].hits >= 1);
    assert.ok(view.layoutBuffers.allocated >= 1, `cold loads read layouts into pooled memory: ${JSON.stringify(view.layoutBuffers)}`);
    assert.equal((await t.call(a.key, 'GET', '/v1/admin/serving')).statusCode, 403);
  });
});
