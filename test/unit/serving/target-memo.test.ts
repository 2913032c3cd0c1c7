import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServingTarget } from '../../../src/models/serving-target.js';
import { TargetMemo } from '../../../src/serving/target-memo.js';

const target = (tenantId: string, name: string, version: number): ServingTarget => ({
  tenantId,
  name,
  source: 'tenant',
  version,
  artifactKey: `tenants/${tenantId}/models/${name}/${version}/model.tml`,
  artifactSha256: 'x',
  spec: { objective: 'reg:squarederror', params: {}, dataset: null, target: null, features: [] },
  prefix: [],
});

function counting() {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    resolve: (t: ServingTarget) => () => {
      calls++;
      return Promise.resolve(t);
    },
  };
}

test('concurrent misses share one resolution; hits resolve nothing', async () => {
  const memo = new TargetMemo();
  const c = counting();
  const [a, b] = await Promise.all([memo.get('t1', 'm', undefined, c.resolve(target('t1', 'm', 1))), memo.get('t1', 'm', undefined, c.resolve(target('t1', 'm', 2)))]);
  assert.equal(a.version, 1);
  assert.equal(b.version, 1);
  await memo.get('t1', 'm', undefined, c.resolve(target('t1', 'm', 3)));
  assert.equal(c.calls, 1);
});

test('model events drop that model (all its pointers) for that tenant only; global events for every tenant', async () => {
  const memo = new TargetMemo();
  const c = counting();
  await memo.get('t1', 'm', undefined, c.resolve(target('t1', 'm', 1)));
  await memo.get('t1', 'm', 1, c.resolve(target('t1', 'm', 1)));
  await memo.get('t1', 'mm', undefined, c.resolve(target('t1', 'mm', 1)));
  await memo.get('t2', 'm', undefined, c.resolve(target('t2', 'm', 1)));
  assert.equal(memo.entries, 4);
  memo.apply({ type: 'model-version', tenantId: 't1', model: 'm', version: '2' });
  assert.equal(memo.entries, 2, "t1's m and m@1 are gone; mm (a name starting with m) and t2 stay");
  memo.apply({ type: 'alias-changed', tenantId: 'Global', model: 'm', alias: 'production' });
  assert.equal(memo.entries, 1, "the global model's name is dropped for every tenant");
  memo.apply({ type: 'tenant-purged', tenantId: 't1' });
  assert.equal(memo.entries, 0);
});

test('resync drops everything; failures are not kept', async () => {
  const memo = new TargetMemo();
  await memo.get('t1', 'm', undefined, () => Promise.resolve(target('t1', 'm', 1)));
  memo.apply({ type: 'resync' });
  assert.equal(memo.entries, 0);
  await assert.rejects(memo.get('t1', 'x', undefined, () => Promise.reject(new Error('not found'))));
  await new Promise((r) => setImmediate(r));
  assert.equal(memo.entries, 0);
  assert.equal((await memo.get('t1', 'x', undefined, () => Promise.resolve(target('t1', 'x', 4)))).version, 4);
});

test('an event during a resolution makes the next request resolve again', async () => {
  const memo = new TargetMemo();
  let release!: (t: ServingTarget) => void;
  const first = memo.get('t1', 'm', undefined, () => new Promise((r) => (release = r)));
  memo.apply({ type: 'model-version', tenantId: 't1', model: 'm' });
  release(target('t1', 'm', 1));
  assert.equal((await first).version, 1);
  assert.equal((await memo.get('t1', 'm', undefined, () => Promise.resolve(target('t1', 'm', 2)))).version, 2);
});

test('the memo is bounded: past its size the oldest tenant goes', async () => {
  const memo = new TargetMemo(3);
  for (const t of ['a', 'b', 'c', 'd']) await memo.get(t, 'm', undefined, () => Promise.resolve(target(t, 'm', 1)));
  assert.ok(memo.entries <= 3);
  let called = false;
  await memo.get('a', 'm', undefined, () => {
    called = true;
    return Promise.resolve(target('a', 'm', 1));
  });
  assert.ok(called, "tenant a's pointer was dropped first");
});
