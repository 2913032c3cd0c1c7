/**
 * Documents count against the tenant's storage quota: an upload that would
 * pass `storageBytes` is refused with 429 `quota_exceeded` and stores nothing,
 * inline or as a background job; deletes free the space at once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';

let t: TestPlatform;
let a: TestTenant;
const LIMIT = 5000;

before(async () => {
  t = await startTestPlatform({ TENANTML_RAG_SYNC_INGEST_MAX: '2000' });
  a = await t.createTenant('rag-quota', { limits: { storageBytes: LIMIT } });
  assert.equal((await t.call(a.key, 'POST', '/v1/namespaces', { name: 'docs' })).statusCode, 201);
});
after(() => t.close());

/** Text of exactly `bytes` ASCII bytes, in sentences. */
const textOf = (bytes: number, word: string) => `${`${word} sentence number here. `.repeat(Math.ceil(bytes / 20))}`.slice(0, bytes);
const upload = (id: string, bytes: number, word = 'plain') => t.call(a.key, 'POST', '/v1/namespaces/docs/documents', { id, text: textOf(bytes, word) });
const documentIds = async () => (await t.call(a.key, 'GET', '/v1/namespaces/docs/documents')).json().documents.map((d: { id: string }) => d.id).sort();
const used = async () => (await t.call(a.key, 'GET', '/v1/usage')).json().storage;

test('inline uploads past storageBytes are refused with 429 and store nothing', async () => {
  assert.equal((await upload('one', 1500, 'alpha')).statusCode, 201);
  assert.equal((await upload('two', 1800, 'bravo')).statusCode, 201);
  const storage = await used();
  assert.equal(storage.bySource.documents, 3300);

  const refused = await upload('three', 1900, 'pelican');
  assert.equal(refused.statusCode, 429, refused.body);
  assert.equal(refused.json().error.code, 'quota_exceeded');
  assert.equal(refused.json().error.details.quota, 'storageBytes');
  assert.deepEqual(await documentIds(), ['one', 'two']);
  const found = await t.call(a.key, 'POST', '/v1/namespaces/docs/query', { query: 'pelican', topK: 3, mode: 'lexical' });
  assert.equal(found.json().results.length, 0, 'the refused text is not searchable');

  // Replacing a document only needs room for the difference (1990 > the 1700 left, but only 190 more).
  assert.equal((await upload('two', 1990, 'bravo')).statusCode, 201);
  assert.equal((await used()).bySource.documents, 3490);
  assert.equal((await upload('two', 1800, 'bravo')).statusCode, 201, 'shrinking always fits');
});

test('a job upload past the quota is refused up front, and re-checked before its document becomes visible', async () => {
  assert.equal((await t.call(a.key, 'DELETE', '/v1/namespaces/docs/documents/one')).statusCode, 204);
  // 1800 stored: one 2100-byte job fits, two do not.
  const early = await upload('huge', 3300, 'zebra');
  assert.equal(early.statusCode, 429, early.body);
  assert.equal(early.json().error.code, 'quota_exceeded');

  const first = await upload('job-a', 2100, 'falcon');
  assert.equal(first.statusCode, 202, first.body);
  const second = await upload('job-b', 2100, 'heron');
  await t.platform.rag.jobs.idle();
  if (second.statusCode === 202) {
    // Both passed the early check while neither was stored: the job itself must refuse the second.
    const job = (await t.call(a.key, 'GET', `/v1/namespaces/docs/jobs/${second.json().job.id}`)).json();
    assert.equal(job.state, 'failed', JSON.stringify(job));
    assert.equal(job.error.code, 'quota_exceeded');
  } else {
    assert.equal(second.statusCode, 429, second.body);
  }
  assert.deepEqual(await documentIds(), ['job-a', 'two']);
  assert.ok((await used()).bySource.documents <= LIMIT);

  // Deleting frees the space at once.
  assert.equal((await t.call(a.key, 'DELETE', '/v1/namespaces/docs/documents/job-a')).statusCode, 204);
  assert.equal((await upload('job-b', 2100, 'heron')).statusCode, 202);
  await t.platform.rag.jobs.idle();
  assert.deepEqual(await documentIds(), ['job-b', 'two']);
});
