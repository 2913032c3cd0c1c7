import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAppError } from '../../../src/errors.js';
import { decodeUtf8 } from '../../../src/rag/parsing/decode-utf8.js';
import { detectFormat, parseDocument } from '../../../src/rag/parsing/parse-document.js';
import { parseHtml } from '../../../src/rag/parsing/parse-html.js';
import { parseMarkdown } from '../../../src/rag/parsing/parse-markdown.js';
import { parsePlainText } from '../../../src/rag/parsing/parse-text.js';
import { makeEncryptedPdf, makeImageOnlyPdf, makeTextPdf } from '../../fixtures/rag/make-pdfs.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isAppError(err), `expected an AppError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('PDF parsing', () => {
  it('keeps page numbers, headings and paragraphs of the text layer', async () => {
    const bytes = await makeTextPdf(
      [
        { heading: 'Refund policy', lines: ['Customers may request a refund within', 'thirty days of purchase.', '', 'Gift cards are final.'] },
        { lines: ['Nothing but a footnote on page two.'] },
        { heading: 'Shipping', lines: ['Orders ship within two business days.'] },
      ],
      'Store handbook',
    );
    const doc = await parseDocument({ bytes, contentType: 'application/pdf' });
    assert.equal(doc.format, 'pdf');
    assert.equal(doc.title, 'Store handbook');
    assert.deepEqual(doc.pages.map((p) => p.page), [1, 2, 3]);
    assert.deepEqual(doc.pages[0]!.blocks, [
      { kind: 'heading', text: 'Refund policy', level: 1 },
      { kind: 'paragraph', text: 'Customers may request a refund within thirty days of purchase.' },
      { kind: 'paragraph', text: 'Gift cards are final.' },
    ]);
    assert.deepEqual(doc.pages[1]!.blocks, [{ kind: 'paragraph', text: 'Nothing but a footnote on page two.' }]);
    assert.equal(doc.pages[2]!.blocks[0]!.kind, 'heading');
    assert.equal(doc.pages[2]!.blocks[1]!.text, 'Orders ship within two business days.');
  });

  it('rejects an image-only PDF, naming the missing text layer', async () => {
    await rejectsWith(parseDocument({ bytes: await makeImageOnlyPdf(), format: 'pdf' }), 'validation_failed', /no text layer/);
  });

  it('rejects an encrypted PDF, naming the password', async () => {
    await rejectsWith(parseDocument({ bytes: await makeEncryptedPdf(), format: 'pdf' }), 'validation_failed', /encrypted/);
  });

  it('rejects truncated and garbage PDFs as damaged', async () => {
    const good = await makeTextPdf([{ lines: ['hello'] }]);
    await rejectsWith(parseDocument({ bytes: good.slice(0, 200), format: 'pdf' }), 'validation_failed', /damaged/);
    await rejectsWith(parseDocument({ bytes: utf8('%PDF-1.7\n garbage'), format: 'pdf' }), 'validation_failed', /damaged/);
    await rejectsWith(parseDocument({ bytes: utf8('just words'), format: 'pdf' }), 'validation_failed', /not a PDF/);
  });
});

describe('text, Markdown and HTML parsing', () => {
  it('splits plain text into paragraphs and pages on form feeds', () => {
    const doc = parsePlainText('First para\nwraps here.\n\nSecond para.\fPage two text.');
    assert.deepEqual(doc.pages, [
      { page: 1, blocks: [{ kind: 'paragraph', text: 'First para wraps here.' }, { kind: 'paragraph', text: 'Second para.' }] },
      { page: 2, blocks: [{ kind: 'paragraph', text: 'Page two text.' }] },
    ]);
  });

  it('reads Markdown structure and strips inline markup', () => {
    const md = [
      '---', 'title: Guide', '---', '# Install', 'Run **npm ci** and see [the docs](http://x/y).', '',
      'Setext', '------', '- item `one`', '2. item two', '', '```', 'code  block', '```', '| a | b |', '|---|---|', '| 1 | 2 |',
      'keep snake_case_names',
    ].join('\n');
    const doc = parseMarkdown(md);
    assert.equal(doc.title, 'Guide');
    assert.deepEqual(doc.pages[0]!.blocks, [
      { kind: 'heading', text: 'Install', level: 1 },
      { kind: 'paragraph', text: 'Run npm ci and see the docs.' },
      { kind: 'heading', text: 'Setext', level: 2 },
      { kind: 'list-item', text: 'item one' },
      { kind: 'list-item', text: 'item two' },
      { kind: 'code', text: 'code  block' },
      { kind: 'table-row', text: 'a | b' },
      { kind: 'table-row', text: '1 | 2' },
      { kind: 'paragraph', text: 'keep snake_case_names' },
    ]);
  });

  it('strips scripts, styles and tags from HTML but keeps headings', () => {
    const html = `<!doctype html><html><head><title>T &amp; C</title><style>p{color:red}</style></head>
      <body><script>alert("x")</script><h2>Terms</h2><p>You &lt;agree&gt; to <b>these</b><br>terms.</p>
      <ul><li>One</li><li>Two</li></ul><table><tr><th>k</th><th>v</th></tr></table><noscript>enable js</noscript></body></html>`;
    const doc = parseHtml(html);
    assert.equal(doc.title, 'T & C');
    assert.deepEqual(doc.pages[0]!.blocks, [
      { kind: 'heading', text: 'Terms', level: 2 },
      { kind: 'paragraph', text: 'You <agree> to these terms.' },
      { kind: 'list-item', text: 'One' },
      { kind: 'list-item', text: 'Two' },
      { kind: 'table-row', text: 'k | v' },
    ]);
  });

  it('rejects invalid UTF-8 with the byte offset, and NUL bytes', async () => {
    const bad = new Uint8Array([0x68, 0x69, 0x20, 0xc3, 0x28, 0x21]);
    assert.throws(() => decodeUtf8(bad), /not valid UTF-8 .*byte 3/);
    await rejectsWith(parseDocument({ bytes: bad, contentType: 'text/plain' }), 'validation_failed', /not valid UTF-8/);
    await rejectsWith(parseDocument({ bytes: utf8('a\u0000b'), contentType: 'text/markdown' }), 'validation_failed', /NUL/);
    await rejectsWith(parseDocument({ bytes: new Uint8Array(), contentType: 'text/plain' }), 'validation_failed', /empty/);
    assert.equal(decodeUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])), 'a', 'a BOM is dropped');
  });

  it('detects the format from type, extension or signature, and refuses unknown types', () => {
    assert.equal(detectFormat({ bytes: utf8('x'), contentType: 'text/markdown; charset=utf-8' }), 'markdown');
    assert.equal(detectFormat({ bytes: utf8('x'), filename: 'a.HTM' }), 'html');
    assert.equal(detectFormat({ bytes: utf8('%PDF-1.4'), contentType: 'application/octet-stream' }), 'pdf');
    assert.throws(() => detectFormat({ bytes: utf8('x'), contentType: 'image/png' }), (e: unknown) => isAppError(e) && e.code === 'unsupported_media_type');
  });
});
