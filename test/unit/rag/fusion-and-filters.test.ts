import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesMetadataFilter, parseMetadataFilter } from '../../../src/rag/search/metadata-filter.js';
import { reciprocalRankFusion } from '../../../src/rag/search/reciprocal-rank-fusion.js';

const ids = (xs: Array<string | number>) => xs.map((id) => ({ id }));

describe('reciprocalRankFusion', () => {
  it('sums 1/(60 + rank) over the lists', () => {
    const fused = reciprocalRankFusion([ids(['a', 'b', 'c']), ids(['c', 'a'])]);
    assert.deepEqual(fused.map((h) => h.id), ['a', 'c', 'b']);
    assert.ok(Math.abs(fused[0]!.score - (1 / 61 + 1 / 62)) < 1e-12);
    assert.deepEqual(fused[1]!.ranks, [3, 1]);
    assert.deepEqual(fused[2]!.ranks, [2, undefined]);
  });

  it('breaks ties by best rank, then earlier list, then id', () => {
    // x and y both sit at rank 1 in one list: the vector list (first) wins.
    assert.deepEqual(reciprocalRankFusion([ids(['x']), ids(['y'])]).map((h) => h.id), ['x', 'y']);
    assert.deepEqual(reciprocalRankFusion([ids(['y']), ids(['x'])]).map((h) => h.id), ['y', 'x']);
    // Same score from symmetric positions: best single rank decides.
    assert.deepEqual(reciprocalRankFusion([ids([1, 2]), ids([2, 1])]).map((h) => h.id), [1, 2]);
    assert.deepEqual(reciprocalRankFusion([ids([1, 2]), ids([2, 1])]).map((h) => h.id), reciprocalRankFusion([ids([1, 2]), ids([2, 1])]).map((h) => h.id));
  });

  it('counts a duplicate once, honours k and limit', () => {
    const fused = reciprocalRankFusion([ids(['a', 'a', 'b'])], { k: 1, limit: 1 });
    assert.equal(fused.length, 1);
    assert.equal(fused[0]!.score, 1 / 2);
    assert.deepEqual(reciprocalRankFusion([[], []]), []);
  });
});

describe('metadata filters', () => {
  const meta = { lang: 'en', year: 2023, tags: ['policy', 'hr'], author: { team: 'legal' }, draft: false };

  it('matches equality, lists, operators and dotted paths', () => {
    assert.ok(matchesMetadataFilter(meta, { lang: 'en' }));
    assert.ok(!matchesMetadataFilter(meta, { lang: 'de' }));
    assert.ok(matchesMetadataFilter(meta, { lang: ['de', 'en'] }));
    assert.ok(matchesMetadataFilter(meta, { tags: 'hr' }), 'a list field contains the value');
    assert.ok(matchesMetadataFilter(meta, { year: { $gte: 2020, $lt: 2024 } }));
    assert.ok(!matchesMetadataFilter(meta, { year: { $gt: 2023 } }));
    assert.ok(!matchesMetadataFilter(meta, { year: { $gt: '2000' } }), 'no cross-type comparison');
    assert.ok(matchesMetadataFilter(meta, { 'author.team': 'legal', draft: false }));
    assert.ok(matchesMetadataFilter(meta, { missing: { $exists: false }, lang: { $nin: ['fr'] } }));
    assert.ok(!matchesMetadataFilter(meta, { lang: 'en', year: 1999 }), 'all fields must match');
  });

  it('validates filters from requests with messages naming the field', () => {
    assert.deepEqual(parseMetadataFilter(undefined), {});
    assert.deepEqual(parseMetadataFilter({ a: 1, b: [1, 'x'], c: { $in: [true] } }), { a: 1, b: [1, 'x'], c: { $in: [true] } });
    assert.throws(() => parseMetadataFilter([1]), /must be an object/);
    assert.throws(() => parseMetadataFilter({ 'bad key!': 1 }), /bad key!/);
    assert.throws(() => parseMetadataFilter({ a: { $regex: 'x' } }), /unknown operator '\$regex'/);
    assert.throws(() => parseMetadataFilter({ a: { $in: 'x' } }), /bad argument for \$in/);
    assert.throws(() => parseMetadataFilter({ a: { nested: 1 } }), /unknown operator 'nested'/);
  });
});
