/**
 * The RAG HTTP API end to end in-process: namespaces, JSON and multipart
 * uploads (real PDFs with known pages), replacement, dedupe, search modes and
 * filters, answers with citations, deletion, background jobs and bad input.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scanAllTablesFor } from '../../support/scan-tenant.js';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';
import { makeEncryptedPdf, makeImageOnlyPdf, makeTextPdf } from '../../fixtures/rag/make-pdfs.js';
import { multipartBody } from './rag-test-support.js';

let t: TestPlatform;
let a: TestTenant;

before(async () => {
  // A small inline limit so the test can exercise the background job path.
  t = await startTestPlatform({ TENANTML_RAG_SYNC_INGEST_MAX: '20000' });
  a = await t.createTenant('rag-api');
});
after(() => t.close());

const stats = async (ns: string) => (await t.call(a.key, 'GET', `/v1/namespaces/${ns}`)).json().stats;
const query = (ns: string, body: Record<string, unknown>) => t.call(a.key, 'POST', `/v1/namespaces/${ns}/query`, body);

describe('namespaces', () => {
  test('create, conflict, list, describe, delete with everything in it', async () => {
    const created = await t.call(a.key, 'POST', '/v1/namespaces', { name: 'ns-crud', embedder: { kind: 'hash', dimension: 256 } });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().dimension, 256);
    assert.equal(created.json().embedder.id, 'hash-v1-256');
    assert.equal((await t.call(a.key, 'POST', '/v1/namespaces', { name: 'ns-crud' })).statusCode, 409);
    const names = (await t.call(a.key, 'GET', '/v1/namespaces')).json().namespaces.map((n: { name: string }) => n.name);
    assert.ok(names.includes('ns-crud'));
    const up = await t.call(a.key, 'POST', '/v1/namespaces/ns-crud/documents', { id: 'one', text: 'Alpha bravo charlie delta.' });
    assert.equal(up.statusCode, 201, up.body);
    assert.deepEqual({ ...(await stats('ns-crud')), storedBytes: 0 }, { documents: 1, chunks: 1, documentBytes: 26, storedBytes: 0, indexResident: true });
    const del = await t.call(a.key, 'DELETE', '/v1/namespaces/ns-crud');
    assert.equal(del.statusCode, 200, del.body);
    assert.equal(del.json().deleted.chunks, 1);
    assert.equal((await t.call(a.key, 'GET', '/v1/namespaces/ns-crud')).statusCode, 404);
    assert.deepEqual(await t.platform.artifacts.list(`tenants/${a.id}/indexes/`), [], 'index files deleted');
    const leftovers = await t.platform.db.withTenant(a.id, (tx) => tx.query('select 1 from rag_chunks union all select 1 from rag_documents'));
    assert.equal(leftovers.rowCount, 0);
  });

  test('an openai embedder must name an allowed server; none is configured here', async () => {
    const res = await t.call(a.key, 'POST', '/v1/namespaces', { name: 'ns-openai', embedder: { kind: 'openai', model: 'x', dimension: 8, baseUrl: 'http://169.254.169.254/v1' } });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error.message, /embedding server/);
  });
});

describe('documents and search', () => {
  before(async () => {
    assert.equal((await t.call(a.key, 'POST', '/v1/namespaces', { name: 'kb' })).statusCode, 201);
  });

  test('a PDF uploaded as multipart keeps its page numbers, and citations point at the right page', async () => {
    const pdf = await makeTextPdf([
      { heading: 'Introduction', lines: ['This manual covers the espresso machine.', 'Read it before first use.'] },
      { heading: 'Descaling', lines: ['Descale the boiler every three months with citric acid.', 'Rinse the tank twice afterwards.'] },
      { heading: 'Warranty', lines: ['The warranty lasts two years from the date of purchase.'] },
    ]);
    const { body, headers } = multipartBody({ bytes: pdf, filename: 'manual.pdf', contentType: 'application/pdf' }, { id: 'manual', metadata: '{"product":"espresso"}' });
    const res = await t.call(a.key, 'POST', '/v1/namespaces/kb/documents', body, headers);
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().document.pageCount, 3);
    assert.equal(res.json().document.format, 'pdf');
    assert.deepEqual(res.json().chunks.map((c: { page: number }) => c.page), [1, 2, 3]);

    const ask = await t.call(a.key, 'POST', '/v1/namespaces/kb/ask', { question: 'How often should I descale the boiler?' });
    assert.equal(ask.statusCode, 200, ask.body);
    const cite = ask.json().citations[0];
    assert.equal(cite.documentId, 'manual');
    assert.equal(cite.page, 2);
    assert.match(ask.json().answer, /three months/);

    const warranty = await query('kb', { query: 'how long is the warranty', topK: 1, mode: 'lexical' });
    assert.equal(warranty.json().results[0].page, 3);
    assert.deepEqual(warranty.json().results[0].metadata, { product: 'espresso' });
  });

  test('every mode ranks the matching chunk first; raw user syntax never errors', async () => {
    await t.call(a.key, 'POST', '/v1/namespaces/kb/documents', {
      id: 'faq',
      format: 'markdown',
      metadata: { kind: 'faq' },
      text: '# Shipping\n\nParcels ship worldwide with tracking numbers.\n\n# Refunds\n\nRefunds are paid back to the original card within 14 days.',
    });
    for (const mode of ['hybrid', 'vector', 'lexical']) {
      const res = await query('kb', { query: 'refunds to the original card', topK: 3, mode });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().results[0].chunkId, 'faq#1', mode);
      assert.equal(res.json().results[0].documentId, 'faq');
    }
    for (const weird of ['"unbalanced quote', 'a & | ! ( )', 'OR OR -', ':*', '\\']) {
      assert.equal((await query('kb', { query: weird, topK: 3, mode: 'lexical' })).statusCode, 200, weird);
    }
  });

  test('metadata filters never return fewer than topK when enough chunks match', async () => {
    // 12 matching chunks in documents tagged team=red, many more tagged blue that would crowd them out.
    for (let i = 0; i < 12; i++) {
      await t.call(a.key, 'POST', '/v1/namespaces/kb/documents', { id: `red-${i}`, text: `Red team note ${i}: the quarterly budget review.`, metadata: { team: 'red', n: i } });
    }
    for (let i = 0; i < 40; i++) {
      await t.call(a.key, 'POST', '/v1/namespaces/kb/documents', { id: `blue-${i}`, text: `Quarterly budget review notes, blue copy ${i}.`, metadata: { team: 'blue', n: i } });
    }
    for (const mode of ['hybrid', 'vector']) {
      const res = await query('kb', { query: 'quarterly budget review', topK: 10, mode, filter: { team: 'red' } });
      assert.equal(res.json().results.length, 10, mode);
      assert.ok(res.json().results.every((r: { metadata: { team: string } }) => r.metadata.team === 'red'), mode);
    }
    const ranged = await query('kb', { query: 'budget', topK: 5, mode: 'lexical', filter: { team: 'red', n: { $gte: 10 } } });
    assert.deepEqual(ranged.json().results.map((r: { documentId: string }) => r.documentId).sort(), ['red-10', 'red-11']);
    assert.equal((await query('kb', { query: 'budget', topK: 5, filter: { team: { $regex: 'x' } } })).statusCode, 400);
  });

  test('re-uploading an id replaces the document; identical content is deduplicated; deleted is unsearchable at once', async () => {
    const v1 = await t.call(a.key, 'POST', '/v1/namespaces/kb/documents', { id: 'versioned', text: 'The launch code word is pelican.' });
    assert.equal(v1.statusCode, 201);
    const v2 = await t.call(a.key, 'POST', '/v1/namespaces/kb/documents', { id: 'versioned', text: 'The launch code word is flamingo.' });
    assert.equal(v2.statusCode, 201);
    assert.equal(v2.json().replaced, true);
    assert.equal((await query('kb', { query: 'pelican', topK: 5, mode: 'lexical' })).json().results.length, 0);
    assert.equal((await query('kb', { query: 'flamingo', topK: 5, mode: 'lexical' })).json().results[0].documentId, 'versioned');

    const again = await t.call(a.key, 'POST', '/v1/namespaces/kb/documents', { id: 'versioned', text: 'The launch code word is flamingo.' });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().deduplicated, true);
    const dup1 = await t.call(a.key, 'POST', '/v1/namespaces/kb/documents', { text: 'A document uploaded twice without an id.' });
    const dup2 = await t.call(a.key, 'POST', '/v1/namespaces/kb/documents', { text: 'A document   uploaded twice without an ID.' });
    assert.equal(dup2.json().document.id, dup1.json().document.id, 'same normalised content → same document');

    assert.equal((await t.call(a.key, 'DELETE', '/v1/namespaces/kb/documents/versioned')).statusCode, 204);
    for (const mode of ['hybrid', 'vector', 'lexical']) {
      const res = await query('kb', { query: 'launch code word flamingo', topK: 100, mode });
      assert.ok(!res.json().results.some((r: { documentId: string }) => r.documentId === 'versioned'), mode);
    }
    assert.equal((await t.call(a.key, 'GET', '/v1/namespaces/kb/documents/versioned')).statusCode, 404);
  });

  test('a large upload is a 202 job that makes the document searchable', async () => {
    const lines = Array.from({ length: 400 }, (_, i) => `Paragraph ${i} about warehouse logistics and pallet number ${i * 7}.`);
    const text = `${lines.join('\n\n')}\n\nThe zebra crossing rule is unique here.`;
    assert.ok(Buffer.byteLength(text) > 20000);
    const res = await t.call(a.key, 'POST', '/v1/namespaces/kb/documents', { id: 'big', text });
    assert.equal(res.statusCode, 202, res.body);
    const jobId = res.json().job.id;
    await t.platform.rag.jobs.idle();
    const job = (await t.call(a.key, 'GET', `/v1/namespaces/kb/jobs/${jobId}`)).json();
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    assert.equal(job.progress, 1);
    assert.equal((await query('kb', { query: 'zebra crossing', topK: 1, mode: 'lexical' })).json().results[0].documentId, 'big');
    assert.deepEqual(await t.platform.artifacts.list(`tenants/${a.id}/rag-uploads/`), [], 'the upload is removed after the job');
  });
});

describe('bad input is a clear 4xx and stores nothing', () => {
  before(async () => {
    assert.equal((await t.call(a.key, 'POST', '/v1/namespaces', { name: 'strict' })).statusCode, 201);
  });

  const cases: Array<[string, () => Promise<{ body: Buffer | Record<string, unknown>; headers?: Record<string, string> }>, number, RegExp]> = [
    ['broken PDF', async () => multipartBody({ bytes: Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage'), filename: 'x.pdf', contentType: 'application/pdf' }), 400, /PDF/],
    ['encrypted PDF', async () => multipartBody({ bytes: await makeEncryptedPdf(), filename: 'x.pdf', contentType: 'application/pdf' }), 400, /encrypt|password/i],
    ['image-only PDF', async () => multipartBody({ bytes: await makeImageOnlyPdf(), filename: 'x.pdf', contentType: 'application/pdf' }), 400, /text layer/],
    ['invalid UTF-8', async () => multipartBody({ bytes: Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x21]), filename: 'x.txt', contentType: 'text/plain' }), 400, /UTF-8/],
    ['unknown media type', async () => multipartBody({ bytes: Buffer.from('x'), filename: 'x.bin', contentType: 'image/png' }), 415, /unsupported/],
    ['unknown JSON field', async () => ({ body: { text: 'hello', tenant_id: 'other' } }), 400, /unknown field 'tenant_id'/],
    ['empty text', async () => ({ body: { text: '' } }), 400, /text/],
    ['whitespace text', async () => ({ body: { text: '   \n ' } }), 400, /empty/],
    ['lone surrogate', async () => ({ body: { text: 'bad \ud800 text' } }), 400, /surrogate/],
    ['unknown form field', async () => multipartBody({ bytes: Buffer.from('hello'), filename: 'x.txt', contentType: 'text/plain' }, { tenant: 'x' }), 400, /unknown/],
    ['bad document id', async () => ({ body: { id: '../etc', text: 'hello' } }), 400, /id/],
  ];
  for (const [name, make, status, message] of cases) {
    test(name, async () => {
      const { body, headers } = await make();
      const res = await t.call(a.key, 'POST', '/v1/namespaces/strict/documents', body, headers);
      assert.equal(res.statusCode, status, res.body);
      assert.match(res.json().error.message, message);
      const s = await stats('strict');
      assert.equal(s.documents + s.chunks, 0);
    });
  }

  test('unknown namespace is a 404 for every route', async () => {
    for (const [method, url, body] of [
      ['GET', '/v1/namespaces/nope', undefined],
      ['POST', '/v1/namespaces/nope/documents', { text: 'hello' }],
      ['POST', '/v1/namespaces/nope/query', { query: 'x', topK: 1 }],
      ['POST', '/v1/namespaces/nope/ask', { question: 'x' }],
      ['POST', '/v1/chat/completions', { model: 'rag:nope', messages: [{ role: 'user', content: 'x' }] }],
      ['POST', '/v1/embeddings', { model: 'rag:nope', input: 'x' }],
    ] as const) {
      const res = await t.call(a.key, method, url, body);
      assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
    }
    assert.deepEqual(await scanAllTablesFor(t.platform.db, 'nope'), {});
  });

  test('query and ask validate their bodies', async () => {
    assert.equal((await query('strict', { query: 'x', topK: 0 })).statusCode, 400);
    assert.equal((await query('strict', { query: 'x', topK: 5, mode: 'fuzzy' })).statusCode, 400);
    assert.equal((await query('strict', { query: 'x', topK: 5, extra: 1 })).statusCode, 400);
    assert.equal((await t.call(a.key, 'POST', '/v1/namespaces/strict/ask', { question: '' })).statusCode, 400);
    assert.equal((await t.call(a.key, 'POST', '/v1/chat/completions', { model: 'gpt-4', messages: [{ role: 'user', content: 'x' }] })).statusCode, 400);
  });
});
