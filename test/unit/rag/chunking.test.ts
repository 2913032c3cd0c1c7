import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkDocument, chunkEmbeddingText } from '../../../src/rag/chunking/chunk-document.js';
import { contentHash } from '../../../src/rag/chunking/content-hash.js';
import type { ParsedDocument } from '../../../src/rag/parsing/parsed-document.js';
import { parseDocument } from '../../../src/rag/parsing/parse-document.js';
import { makeTextPdf } from '../../fixtures/rag/make-pdfs.js';

function sentence(i: number): string {
  return `Sentence number ${i} talks about topic${i} and nothing else.`;
}

describe('chunkDocument', () => {
  it('carries heading paths and closes chunks at headings and pages', () => {
    const doc: ParsedDocument = {
      format: 'markdown',
      pages: [
        {
          page: 1,
          blocks: [
            { kind: 'heading', text: 'Guide', level: 1 },
            { kind: 'paragraph', text: 'Intro.' },
            { kind: 'heading', text: 'Install', level: 2 },
            { kind: 'paragraph', text: 'Run it.' },
            { kind: 'list-item', text: 'step' },
          ],
        },
        { page: 2, blocks: [{ kind: 'paragraph', text: 'Still installing.' }, { kind: 'heading', text: 'Use', level: 2 }, { kind: 'paragraph', text: 'Call it.' }] },
      ],
    };
    const chunks = chunkDocument(doc);
    assert.deepEqual(
      chunks.map((c) => [c.index, c.page, c.headingPath, c.text]),
      [
        [0, 1, ['Guide'], 'Intro.'],
        [1, 1, ['Guide', 'Install'], 'Run it.\n- step'],
        [2, 2, ['Guide', 'Install'], 'Still installing.'],
        [3, 2, ['Guide', 'Use'], 'Call it.'],
      ],
    );
    assert.equal(chunkEmbeddingText(chunks[1]!), 'Guide > Install\nRun it.\n- step');
  });

  it('packs to the target size with whole-word overlap and never splits a word', () => {
    const para = Array.from({ length: 60 }, (_, i) => sentence(i)).join(' ');
    const doc: ParsedDocument = { format: 'text', pages: [{ page: 1, blocks: [{ kind: 'paragraph', text: para }] }] };
    const chunks = chunkDocument(doc, { targetChars: 300, overlapChars: 60 });
    assert.ok(chunks.length >= 10);
    const vocabulary = new Set(para.split(' '));
    for (const c of chunks) {
      assert.ok(c.text.length <= 300, `chunk of ${c.text.length} chars`);
      for (const w of c.text.split(' ')) assert.ok(vocabulary.has(w), `'${w}' is not a whole word`);
    }
    for (let i = 1; i < chunks.length; i++) {
      const prevWords = chunks[i - 1]!.text.split(' ');
      const firstWord = chunks[i]!.text.split(' ')[0]!;
      assert.ok(prevWords.slice(-15).includes(firstWord), 'a chunk starts with the tail of the previous one');
    }
    const allText = chunks.map((c) => c.text).join(' ');
    for (let i = 0; i < 60; i++) assert.ok(allText.includes(sentence(i)), `sentence ${i} survives`);
  });

  it('cuts only a single word longer than the target', () => {
    const long = 'x'.repeat(130);
    const doc: ParsedDocument = { format: 'text', pages: [{ page: 1, blocks: [{ kind: 'paragraph', text: `short ${long} tail` }] }] };
    const chunks = chunkDocument(doc, { targetChars: 60, overlapChars: 0 });
    assert.ok(chunks.every((c) => c.text.length <= 60));
    assert.equal(chunks.map((c) => c.text).join('').replace(/ /g, ''), `short${long}tail`);
    assert.ok(chunks.some((c) => c.text.split(' ').includes('tail')), 'short words stay whole');
  });

  it('hashes normalised text so equal passages dedupe', () => {
    assert.equal(contentHash('Hello   World\n'), contentHash('hello world'));
    assert.notEqual(contentHash('hello world'), contentHash('hello world!'));
    const doc: ParsedDocument = { format: 'text', pages: [{ page: 1, blocks: [{ kind: 'paragraph', text: 'Same.' }] }, { page: 2, blocks: [{ kind: 'paragraph', text: 'SAME.' }] }] };
    const [a, b] = chunkDocument(doc);
    assert.equal(a!.contentHash, b!.contentHash);
    assert.match(a!.contentHash, /^[0-9a-f]{64}$/);
  });

  it('rejects nonsensical sizes', () => {
    const doc: ParsedDocument = { format: 'text', pages: [] };
    assert.throws(() => chunkDocument(doc, { targetChars: 10 }), /targetChars/);
    assert.throws(() => chunkDocument(doc, { targetChars: 100, overlapChars: 60 }), /overlapChars/);
  });

  it('keeps PDF page numbers through parsing and chunking', async () => {
    const pages = [1, 2, 3, 4].map((p) => ({ heading: `Chapter ${p}`, lines: [`The secret word of page ${p} is marker${p}.`, 'More filler text follows here.'] }));
    const doc = await parseDocument({ bytes: await makeTextPdf(pages), format: 'pdf' });
    const chunks = chunkDocument(doc);
    for (let p = 1; p <= 4; p++) {
      const c = chunks.find((x) => x.text.includes(`marker${p}`));
      assert.ok(c, `marker${p} is in a chunk`);
      assert.equal(c.page, p);
      assert.deepEqual(c.headingPath, [`Chapter ${p}`]);
    }
  });
});
