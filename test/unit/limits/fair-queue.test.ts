import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFairQueue } from '../../../src/limits/fair-queue.js';

interface Item {
  tenantId: string;
  cost: number;
  name: string;
}

function drain(queue: { pop(): Item | undefined }): string[] {
  const names: string[] = [];
  for (let item = queue.pop(); item; item = queue.pop()) names.push(item.name);
  return names;
}

describe('deficit round robin queue', () => {
  it('alternates between tenants with equal costs, whatever their backlog', () => {
    const queue = createFairQueue<Item>({ quantum: 1, weightOf: () => 1, isBlocked: () => false });
    for (let i = 0; i < 5; i++) queue.push({ tenantId: 'a', cost: 1, name: `a${i}` });
    queue.push({ tenantId: 'b', cost: 1, name: 'b0' });
    queue.push({ tenantId: 'c', cost: 1, name: 'c0' });
    assert.deepEqual(drain(queue), ['a0', 'b0', 'c0', 'a1', 'a2', 'a3', 'a4']);
  });

  it('shares by cost: 1-unit entries run three times as often as 3-unit ones', () => {
    const queue = createFairQueue<Item>({ quantum: 1, weightOf: () => 1, isBlocked: () => false });
    queue.push({ tenantId: 'big', cost: 3, name: 'B0' });
    queue.push({ tenantId: 'big', cost: 3, name: 'B1' });
    for (let i = 0; i < 6; i++) queue.push({ tenantId: 'small', cost: 1, name: `s${i}` });
    const order = drain(queue);
    assert.deepEqual(order, ['s0', 's1', 'B0', 's2', 's3', 's4', 'B1', 's5']);
  });

  it('serves in proportion to weight', () => {
    const queue = createFairQueue<Item>({ quantum: 1, weightOf: (t) => (t === 'gold' ? 3 : 1), isBlocked: () => false });
    for (let i = 0; i < 6; i++) queue.push({ tenantId: 'gold', cost: 1, name: 'g' });
    for (let i = 0; i < 6; i++) queue.push({ tenantId: 'basic', cost: 1, name: 'b' });
    assert.equal(drain(queue).slice(0, 8).join(''), 'gggbgggb');
  });

  it('skips blocked tenants without losing their place or their entries', () => {
    const blocked = new Set(['a']);
    const queue = createFairQueue<Item>({ quantum: 1, weightOf: () => 1, isBlocked: (t) => blocked.has(t) });
    queue.push({ tenantId: 'a', cost: 1, name: 'a0' });
    queue.push({ tenantId: 'b', cost: 1, name: 'b0' });
    assert.equal(queue.pop()?.name, 'b0');
    assert.equal(queue.pop(), undefined, 'only a blocked tenant is left');
    blocked.clear();
    assert.equal(queue.pop()?.name, 'a0');
    assert.equal(queue.size, 0);
  });

  it('removes entries from the middle and keeps totals', () => {
    const queue = createFairQueue<Item>({ quantum: 1, weightOf: () => 1, isBlocked: () => false });
    const x = { tenantId: 'a', cost: 5, name: 'x' };
    queue.push({ tenantId: 'a', cost: 2, name: 'w' });
    queue.push(x);
    queue.push({ tenantId: 'b', cost: 1, name: 'y' });
    assert.equal(queue.totalCost, 8);
    assert.equal(queue.remove(x), true);
    assert.equal(queue.remove(x), false);
    assert.equal(queue.totalCost, 3);
    assert.equal(queue.countOf('a'), 1);
    assert.deepEqual(drain(queue).sort(), ['w', 'y']);
  });

  it('estimates the units ahead of a newcomer as a fair share, not the whole backlog', () => {
    const queue = createFairQueue<Item>({ quantum: 1, weightOf: () => 1, isBlocked: () => false });
    for (let i = 0; i < 1000; i++) queue.push({ tenantId: 'a', cost: 1, name: 'a' });
    assert.equal(queue.costAhead('b', 1), 1);
    assert.equal(queue.costAhead('a', 1), 1000);
  });

  it('does not spin on entries far larger than the quantum', () => {
    const queue = createFairQueue<Item>({ quantum: 1, weightOf: () => 1, isBlocked: () => false });
    queue.push({ tenantId: 'a', cost: 1e9, name: 'huge' });
    queue.push({ tenantId: 'b', cost: 5e8, name: 'half' });
    const started = performance.now();
    assert.deepEqual(drain(queue), ['half', 'huge']);
    assert.ok(performance.now() - started < 1000);
  });
});
