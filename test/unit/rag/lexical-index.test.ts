import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LexicalIndex, usesSearchOperators } from '../../../src/rag/search/lexical-index.js';
import { parseWebSearchQuery } from '../../../src/rag/search/web-search-query.js';

const TEXTS = [
  'The warranty lasts two years from the date of purchase.',
  'Refunds are issued within fourteen days of a return.',
  'Shipping is free for orders over fifty euros; shipped parcels are tracked.',
  'Our warranty does not cover water damage.',
];

describe('LexicalIndex', () => {
  it('ranks by BM25 over stemmed terms, ties by smaller label', () => {
    const index = LexicalIndex.build(1, [10, 20, 30, 40], TEXTS);
    const hits = index.search('how long is the warranty', 10);
    // Both mention the warranty once; the shorter chunk ranks first (BM25 length normalisation).
    assert.deepEqual(
      hits.map((h) => h.id),
      [40, 10],
    );
    assert.equal(index.search('refund', 1)[0]?.id, 20, 'stemming lets "refund" meet "Refunds"');
    assert.equal(index.search('shipping', 1)[0]?.id, 30);
    assert.deepEqual(index.search('pelican', 5), []);
    // A document with more of the query's terms ranks above one with fewer.
    assert.equal(index.search('warranty water damage', 1)[0]?.id, 40);
  });

  it('honours filters, removals and replacements', () => {
    const index = LexicalIndex.build(1, [10, 20, 30, 40], TEXTS);
    assert.deepEqual(
      index.search('warranty', 5, (id) => id !== 10).map((h) => h.id),
      [40],
    );
    assert.equal(index.remove([40, 999]), 1);
    assert.deepEqual(
      index.search('warranty', 5).map((h) => h.id),
      [10],
    );
    index.add([10], ['flamingo pink']);
    assert.deepEqual(index.search('warranty', 5), []);
    assert.equal(index.search('flamingo', 5)[0]?.id, 10);
    assert.equal(index.size, 3);
  });

  it('compacts after many removals and round-trips through serialize/load', () => {
    const labels = Array.from({ length: 300 }, (_, i) => i);
    const index = LexicalIndex.build(7, labels, labels.map((i) => `alpha item${i} ${i % 3 === 0 ? 'gamma' : 'delta'}`));
    index.remove(labels.filter((i) => i >= 100));
    const before = index.search('gamma alpha', 50);
    assert.equal(before.length, 50);
    assert.equal(index.search('gamma', 100).length, 34);
    assert.ok(before.slice(0, 34).every((h) => h.id % 3 === 0), 'chunks with both terms first');
    const loaded = LexicalIndex.load(index.serialize());
    assert.equal(loaded.generation, 7);
    assert.equal(loaded.size, 100);
    assert.deepEqual(loaded.search('gamma alpha', 50), before);
    loaded.add([500], ['gamma gamma']);
    assert.equal(loaded.search('gamma', 1)[0]?.id, 500);
  });

  it('ranks the same however it got its contents: built at once, written piece by piece across packs, or loaded and edited', () => {
    const vocabulary = Array.from({ length: 400 }, (_, i) => `word${i.toString(36)}`);
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const text = () => Array.from({ length: 20 + Math.floor(random() * 60) }, () => vocabulary[Math.floor(random() ** 2 * vocabulary.length)]).join(' ');
    const contents = new Map<number, string>();
    const incremental = new LexicalIndex(1);
    // Batches large enough to fold the overlay into the packed arrays several times, with replacements and removals between.
    for (let batch = 0; batch < 8; batch++) {
      const labels = Array.from({ length: 150 }, (_, i) => (batch * 100 + i) % 900);
      const texts = labels.map(text);
      incremental.add(labels, texts);
      for (const [i, l] of labels.entries()) contents.set(l, texts[i]!);
      const removed = [...contents.keys()].filter(() => random() < 0.1);
      incremental.remove(removed);
      for (const l of removed) contents.delete(l);
    }
    const loaded = LexicalIndex.load(incremental.serialize());
    loaded.add([5000], ['word1 word2 word3']);
    loaded.remove([5000]);
    const fresh = LexicalIndex.build(1, [...contents.keys()], [...contents.values()]);
    assert.equal(incremental.size, contents.size);
    for (let q = 0; q < 50; q++) {
      const query = q % 5 === 0 ? `"${vocabulary[q]} ${vocabulary[q + 1]}" ${vocabulary[q * 3]} -${vocabulary[q * 2]}` : text().split(' ').slice(0, 4).join(' ');
      const want = fresh.search(query, 20);
      assert.deepEqual(incremental.search(query, 20), want, query);
      assert.deepEqual(loaded.search(query, 20), want, query);
    }
    // A clause of negations alone ranges over every live chunk.
    const untouched = LexicalIndex.load(incremental.serialize());
    for (const query of [`-${vocabulary[0]}`, `-${vocabulary[1]} -${vocabulary[2]}`]) assert.deepEqual(untouched.search(query, 30), fresh.search(query, 30), query);
    const repeated = LexicalIndex.build(1, [1, 2], ['one thing', 'two things']).serialize();
    assert.ok(LexicalIndex.load(repeated).has(2));
  });

  it('rejects damaged bytes', () => {
    const bytes = LexicalIndex.build(1, [1, 2], ['one thing', 'two things']).serialize();
    assert.throws(() => LexicalIndex.load(bytes.subarray(0, bytes.length - 3)), /length/);
    const bad = bytes.slice();
    bad[0] = 0;
    assert.throws(() => LexicalIndex.load(bad), /magic/);
    // An older format is refused (the caller rebuilds it from Postgres).
    const old = bytes.slice();
    old[4] = 2;
    assert.throws(() => LexicalIndex.load(old), /format version 2/);
  });

  it('recognises web-search operators', () => {
    assert.equal(usesSearchOperators('"exact phrase" here'), true);
    assert.equal(usesSearchOperators('cats -dogs'), true);
    assert.equal(usesSearchOperators('cats or dogs'), true);
    assert.equal(usesSearchOperators('what is a well-known fact'), false);
    assert.equal(usesSearchOperators('orders over fifty'), false);
  });

  it('serves web-search syntax: or relaxes, phrases and negation restrict', () => {
    const index = LexicalIndex.build(1, [10, 20, 30, 40], TEXTS);
    // `or` only relaxes: the same ranking as the plain query.
    assert.deepEqual(index.search('warranty or refunds', 10), index.search('warranty refunds', 10));
    // Phrases: terms adjacent (stopwords skipped), so "water damage" matches only chunk 40; "damage water" nothing.
    assert.deepEqual(
      index.search('"water damage" warranty', 10).map((h) => h.id),
      [40],
    );
    assert.deepEqual(index.search('"damage water"', 10), []);
    assert.deepEqual(
      index.search('"date of purchase"', 10).map((h) => h.id),
      [10],
    );
    // Negation excludes; a negation alone matches every chunk without the term.
    assert.deepEqual(
      index.search('warranty -water', 10).map((h) => h.id),
      [10],
    );
    assert.deepEqual(
      index.search('-warranty', 10).map((h) => h.id),
      [20, 30],
    );
    // `or` between a phrase and a word inside a strict query.
    assert.deepEqual(
      index
        .search('"water damage" or refunds -shipping', 10)
        .map((h) => h.id)
        .sort(),
      [20, 40],
    );
    // An unbalanced quote runs to the end; junk never throws.
    assert.deepEqual(
      index.search('"free for orders', 10).map((h) => h.id),
      [30],
    );
    for (const weird of ['a & | ! ( )', 'OR OR -', ':*', '\\', '""', '-']) assert.ok(Array.isArray(index.search(weird, 3)), weird);
    // Phrases survive serialize/load.
    assert.deepEqual(LexicalIndex.load(index.serialize()).search('"water damage"', 10), index.search('"water damage"', 10));
  });

  it('parses web-search queries like websearch_to_tsquery', () => {
    assert.deepEqual(parseWebSearchQuery('cats or dogs'), { clauses: [[{ terms: ['cat'], negated: false }, { terms: ['dog'], negated: false }]], positiveTerms: ['cat', 'dog'], strict: false });
    const q = parseWebSearchQuery('"big red" boat -sail');
    assert.equal(q.strict, true);
    assert.deepEqual(q.clauses, [[{ terms: ['big', 'red'], negated: false }], [{ terms: ['boat'], negated: false }], [{ terms: ['sail'], negated: true }]]);
    assert.deepEqual(q.positiveTerms, ['big', 'red', 'boat']);
  });
});
