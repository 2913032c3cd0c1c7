/**
 * Isolation proofs for models: a tenant's artifact is a function of its own
 * rows only; the global model is a function of the consenting tenants' rows
 * only (byte-identical, with a planted canary next door); cold-start
 * fallback, policies, consent withdrawal and purge.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scanAllTablesFor } from '../../support/scan-tenant.js';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';
import { trainAndWait, uploadDemand } from './model-test-support.js';

const FEATURES = ['store', 'product', 'price', 'promo'];
const OWN = { name: 'demand', dataset: 'sales', target: 'units', objective: 'count:poisson', features: FEATURES, params: { numBoostRound: 25 } };
const GLOBAL = { name: 'demand', dataset: 'sales', target: 'units', objective: 'count:poisson', features: FEATURES, params: { numBoostRound: 25 } };
const PROBE = { rows: [{ store: 's0', product: 'p0', price: 3, promo: false }, { store: 's1', product: 'p2', price: 9, promo: true }, { store: 's9', product: 'p1' }] };

describe("a tenant's model depends on its own rows only", () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({ TENANTML_JOB_POLL_MS: '20' });
  });
  after(() => t.close());

  test("B's artifact is byte-identical whether or not A has data", async () => {
    const a = await t.createTenant('iso-a');
    const b = await t.createTenant('iso-b');
    await uploadDemand(t, b, 'sales', { seed: 21, stores: 2, products: 3, days: 50 });
    const first = await trainAndWait(t, b, OWN);
    const bytes1 = await t.platform.models.registry.readArtifact(b.id, 'demand', first.result.version);
    // A arrives with a dataset of the same name and wildly different rows, and trains too.
    await uploadDemand(t, a, 'sales', { seed: 99, stores: 5, products: 4, days: 80, scale: 50 });
    const aJob = await trainAndWait(t, a, OWN);
    const second = await trainAndWait(t, b, OWN);
    const bytes2 = await t.platform.models.registry.readArtifact(b.id, 'demand', second.result.version);
    assert.notEqual(first.result.version, second.result.version);
    assert.deepEqual(Buffer.from(bytes2), Buffer.from(bytes1), 'same bytes');
    const aBytes = await t.platform.models.registry.readArtifact(a.id, 'demand', aJob.result.version);
    assert.notDeepEqual(Buffer.from(aBytes), Buffer.from(bytes1), "A's model is its own");
    const v = (await t.call(b.key, 'GET', `/v1/models/demand/versions/${second.result.version}`)).json();
    assert.deepEqual(v.lineage, [b.id]);
    assert.equal(v.fingerprint.rows, 300, "only B's rows were read");
  });
});

describe('the global model', () => {
  let t: TestPlatform;
  let c1: TestTenant;
  let c2: TestTenant;
  let outsider: TestTenant;
  let cold: TestTenant;
  let firstSha: string;
  let coldBefore: number[];
  let memberBefore: number[];

  before(async () => {
    t = await startTestPlatform({ TENANTML_JOB_POLL_MS: '20' });
    c1 = await t.createTenant('consent-one', { allowPooledTraining: true });
    c2 = await t.createTenant('consent-two', { allowPooledTraining: true });
    outsider = await t.createTenant('no-consent');
    cold = await t.createTenant('cold-start');
    await uploadDemand(t, c1, 'sales', { seed: 1, stores: 2, products: 3, days: 40 });
    await uploadDemand(t, c2, 'sales', { seed: 2, stores: 2, products: 3, days: 40 });
    await trainAndWait(t, c1, OWN);
  });
  after(() => t.close());

  const train = async () => {
    const res = await t.call(t.adminKey, 'POST', '/v1/admin/global-models', GLOBAL);
    assert.equal(res.statusCode, 201, res.body);
    return res.json();
  };

  test('trains from the consenting tenants only, records them as lineage, and compares with their own models', async () => {
    const { version, skipped } = await train();
    firstSha = version.artifact.sha256;
    assert.deepEqual(version.lineage, [c1.id, c2.id]);
    assert.deepEqual(skipped, []);
    assert.match(version.artifact.key, /^global-models\/demand\/1\/model\.tml$/, 'outside every tenant prefix');
    const m1 = version.members.find((m: { tenantId: string }) => m.tenantId === c1.id);
    assert.equal(typeof m1.comparison.global.rmse, 'number');
    assert.equal(typeof m1.comparison.own.rmse, 'number', "c1's own model on the same rows");
    const m2 = version.members.find((m: { tenantId: string }) => m.tenantId === c2.id);
    assert.equal(m2.comparison.own, undefined, 'c2 has no model of its own');
    const seen = (await t.call(c1.key, 'GET', '/v1/models/demand')).json();
    assert.deepEqual(seen.global.onYourRows, m1.comparison, 'the tenant sees both errors on its rows');
    assert.equal(JSON.stringify(seen.global).includes(c2.id), false, 'and nothing of the other members');
  });

  test('a tenant without a model of its own is served by the global model (cold start)', async () => {
    const res = await t.call(cold.key, 'POST', '/v1/models/demand/predict', PROBE);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().model, { name: 'demand', version: 1, source: 'global' });
    coldBefore = res.json().predictions;
    memberBefore = (await t.call(c2.key, 'POST', '/v1/models/demand/predict', PROBE)).json().predictions;
    assert.notDeepEqual(memberBefore, coldBefore, 'a member is predicted with its own tenant code');
    assert.equal((await t.call(cold.key, 'GET', '/v1/models/demand')).statusCode, 404, 'no model of its own to describe');
  });

  test("a non-consenting tenant's canary rows change no byte of the global model and no prediction", async () => {
    await uploadDemand(t, outsider, 'sales', { seed: 666, stores: 2, products: 3, days: 60, scale: 1000 });
    const { version } = await train();
    assert.equal(version.version, 2);
    assert.equal(version.artifact.sha256, firstSha, 'byte-identical');
    assert.deepEqual(version.lineage, [c1.id, c2.id]);
    const now = await t.call(cold.key, 'POST', '/v1/models/demand/predict', PROBE);
    assert.equal(now.json().model.version, 2);
    assert.deepEqual(now.json().predictions, coldBefore);
    assert.deepEqual((await t.call(c2.key, 'POST', '/v1/models/demand/predict', PROBE)).json().predictions, memberBefore);
  });

  test('once the tenant publishes its own model, its own is used; the policy can choose global or best', async () => {
    await uploadDemand(t, cold, 'sales', { seed: 3, stores: 2, products: 3, days: 40 });
    await trainAndWait(t, cold, OWN);
    assert.equal((await t.call(cold.key, 'POST', '/v1/models/demand/predict', PROBE)).json().model.source, 'tenant');
    assert.equal((await t.call(cold.key, 'PUT', '/v1/models/demand/policy', { policy: 'global' })).statusCode, 200);
    assert.equal((await t.call(cold.key, 'POST', '/v1/models/demand/predict', PROBE)).json().model.source, 'global');
    // best: the lower holdout error on the tenant's own rows wins (c1 has both numbers).
    assert.equal((await t.call(c1.key, 'PUT', '/v1/models/demand/policy', { policy: 'best' })).statusCode, 200);
    const cmp = (await t.call(c1.key, 'GET', '/v1/models/demand')).json().global.onYourRows;
    const expected = cmp.global.rmse < cmp.own.rmse ? 'global' : 'tenant';
    assert.equal((await t.call(c1.key, 'POST', '/v1/models/demand/predict', PROBE)).json().model.source, expected);
    assert.equal((await t.call(cold.key, 'PUT', '/v1/models/demand/policy', { policy: 'sometimes' })).statusCode, 400);
  });

  test('withdrawing consent marks the global model stale; the next training excludes the tenant', async () => {
    const patch = await t.call(t.adminKey, 'PATCH', `/v1/admin/tenants/${c2.id}`, { allowPooledTraining: false });
    assert.equal(patch.statusCode, 200, patch.body);
    const stale = (await t.call(t.adminKey, 'GET', '/v1/admin/global-models/demand')).json();
    assert.equal(stale.stale, true);
    assert.match(stale.staleReason, /withdrew consent/);
    const { version } = await train();
    assert.deepEqual(version.lineage, [c1.id]);
    const fresh = (await t.call(t.adminKey, 'GET', '/v1/admin/global-models')).json();
    assert.deepEqual(fresh.models.map((m: { name: string; stale: boolean }) => [m.name, m.stale]), [['demand', false]]);
    assert.equal((await t.call(t.adminKey, 'GET', '/v1/admin/global-models/nothing')).statusCode, 404);
  });

  test('with no consenting tenant holding the dataset, training is a 400 naming why', async () => {
    const res = await t.call(t.adminKey, 'POST', '/v1/admin/global-models', { ...GLOBAL, dataset: 'absent' });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error.message, /no consenting tenant has a usable dataset 'absent'/);
  });

  test("purging a contributing tenant deletes its models, jobs, artifacts and every mention in global tables", async () => {
    const res = await t.call(t.adminKey, 'DELETE', `/v1/admin/tenants/${c1.id}`);
    assert.equal(res.statusCode, 200, res.body);
    const receipt = res.json().deleted;
    assert.ok(receipt.global_model_members >= 3, JSON.stringify(receipt));
    assert.ok(receipt.model_versions >= 1 && receipt.models >= 1 && receipt.training_jobs >= 1 && receipt.model_aliases >= 1);
    assert.ok(receipt.artifacts >= 1);
    assert.deepEqual(await scanAllTablesFor(t.platform.db, c1.id), {});
    assert.deepEqual(await t.platform.artifacts.list(`tenants/${c1.id}/`), []);
    const global = (await t.call(t.adminKey, 'GET', '/v1/admin/global-models/demand')).json();
    assert.equal(global.stale, true, 'it learned from a tenant that no longer exists');
    assert.equal(JSON.stringify(global).includes(c1.id), false);
    // Everyone else is still served.
    assert.equal((await t.call(outsider.key, 'POST', '/v1/models/demand/predict', PROBE)).json().model.source, 'global');
  });
});
