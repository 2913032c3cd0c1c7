import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BufferPool } from '../../../src/storage/buffer-pool.js';

describe('BufferPool', () => {
  it('hands a returned buffer to the next take that fits it, as a view of exactly the size asked', () => {
    const pool = new BufferPool(64 * 2 ** 20);
    const first = pool.take(3_000_000);
    assert.equal(first.byteLength, 3_000_000);
    pool.give(first.buffer as ArrayBuffer);
    const second = pool.take(2_900_000);
    assert.equal(second.buffer, first.buffer);
    assert.equal(second.byteLength, 2_900_000);
    assert.deepEqual(pool.stats(), { freeBytes: 0, buffers: 0, reused: 1, allocated: 1 });
  });

  it('does not hand out a buffer far larger than asked, and picks the smallest that fits', () => {
    const pool = new BufferPool(64 * 2 ** 20);
    const big = pool.take(8_000_000).buffer as ArrayBuffer;
    const medium = pool.take(3_100_000).buffer as ArrayBuffer;
    pool.give(big);
    pool.give(medium);
    assert.notEqual(pool.take(1_000_000).buffer, big); // 8× too large: a new buffer
    assert.equal(pool.take(3_000_000).buffer, medium);
    assert.equal(pool.stats().buffers, 1);
  });

  it('keeps at most maxBytes, dropping the oldest', () => {
    const pool = new BufferPool(5 * 2 ** 20);
    const a = pool.take(2 * 2 ** 20).buffer as ArrayBuffer;
    const b = pool.take(2 * 2 ** 20).buffer as ArrayBuffer;
    const c = pool.take(2 * 2 ** 20).buffer as ArrayBuffer;
    pool.give(a);
    pool.give(b);
    pool.give(c);
    assert.deepEqual(pool.stats().buffers, 2);
    assert.ok(pool.stats().freeBytes <= 5 * 2 ** 20);
    const taken = [pool.take(2 * 2 ** 20).buffer, pool.take(2 * 2 ** 20).buffer];
    assert.ok(!taken.includes(a));
  });
});
