/**
 * Isolation of RAG namespaces under load: 50 tenants with identically named
 * namespaces, each holding documents with planted canaries. 10,000 random
 * queries in every mode (through the service layer, plus a sample over HTTP)
 * must return only the asking tenant's chunks; prompts sent to the language
 * model hold only the asking tenant's text; a deleted document is gone at the
 * next request; the isolation alarm never fires.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import type { SearchMode } from '../../../src/rag/service/rag-search.js';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';
import { sendJson, startStubServer, type StubServer } from '../../unit/rag/stub-server.js';
import { COMMON_QUERIES, markdownWithCanary } from './rag-test-support.js';

const TENANTS = 50;
const QUERIES = 10_000;
const HTTP_SAMPLE = 300;
const MODES: SearchMode[] = ['hybrid', 'vector', 'lexical'];

let t: TestPlatform;
let llm: StubServer;
const tenants: Array<TestTenant & { canary: string }> = [];
const CANARY = /CANARY-[a-z0-9-]+-x/g;

/** A deterministic PRNG so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let r = Math.imul(s ^ (s >>> 15), 1 | s);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

before(async () => {
  llm = await startStubServer((req, res: ServerResponse) => {
    const body = req.body as { stream?: boolean };
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: 'From the sources [1].' }, finish_reason: null }] })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    sendJson(res, 200, { model: 'stub', choices: [{ message: { role: 'assistant', content: 'From the sources [1].' }, finish_reason: 'stop' }] });
  });
  t = await startTestPlatform({ TENANTML_CHAT_BASE_URL: llm.baseUrl, TENANTML_CHAT_MODEL: 'stub-model' });
  for (let i = 0; i < TENANTS; i++) {
    const tenant = await t.createTenant(`iso-${String(i).padStart(2, '0')}`);
    const canary = `CANARY-${tenant.id}-x`;
    tenants.push({ ...tenant, canary });
    assert.equal((await t.call(tenant.key, 'POST', '/v1/namespaces', { name: 'shared' })).statusCode, 201);
    for (let d = 0; d < 2; d++) {
      const res = await t.call(tenant.key, 'POST', '/v1/namespaces/shared/documents', {
        id: `doc-${d}`,
        format: 'markdown',
        text: markdownWithCanary(canary, 3 + d),
        metadata: { owner: tenant.id, d },
      });
      assert.equal(res.statusCode, 201, res.body);
    }
  }
});
after(async () => {
  await t.close();
  await llm.close();
});

function assertOwn(tenant: { canary: string }, texts: string[], what: string): void {
  for (const text of texts) {
    const found = text.match(CANARY) ?? [];
    for (const c of found) assert.equal(c, tenant.canary, `${what}: another tenant's canary ${c}`);
  }
}

test(`${QUERIES} random queries in every mode return only the caller's chunks`, async () => {
  const next = rng(7);
  const search = t.platform.rag.service.search;
  let results = 0;
  for (let i = 0; i < QUERIES; i++) {
    const tenant = tenants[Math.floor(next() * tenants.length)]!;
    const other = tenants[Math.floor(next() * tenants.length)]!;
    const mode = MODES[i % MODES.length]!;
    // Queries mix common words with other tenants' canaries, which must find nothing of theirs.
    const pick = next();
    const text = pick < 0.3 ? other.canary : pick < 0.4 ? `${COMMON_QUERIES[i % COMMON_QUERIES.length]} ${other.canary}` : COMMON_QUERIES[Math.floor(next() * COMMON_QUERIES.length)]!;
    const filter = next() < 0.1 ? { owner: other.id } : undefined;
    const hits = await search.search(tenant.id, 'shared', { query: text, topK: 1 + Math.floor(next() * 10), mode, filter });
    results += hits.length;
    for (const h of hits) {
      assert.equal(h.metadata.owner, tenant.id, `query ${i} (${mode}) by ${tenant.id} returned a chunk of ${String(h.metadata.owner)}`);
      assert.ok(h.text.includes(tenant.canary), `query ${i}: chunk without the caller's canary`);
    }
    assertOwn(tenant, hits.map((h) => h.text), `query ${i}`);
    if (filter && filter.owner !== tenant.id) assert.equal(hits.length, 0, 'a filter naming another tenant matches nothing');
  }
  assert.ok(results > QUERIES, `queries returned results (${results})`);
  const alarms = (await t.platform.metrics.getSingleMetric('tenantml_rag_isolation_alarms_total')?.get())?.values[0]?.value ?? 0;
  assert.equal(alarms, 0, 'no isolation alarm');
});

test(`${HTTP_SAMPLE} queries over HTTP return only the caller's chunks`, async () => {
  const next = rng(11);
  for (let i = 0; i < HTTP_SAMPLE; i++) {
    const tenant = tenants[Math.floor(next() * tenants.length)]!;
    const other = tenants[Math.floor(next() * tenants.length)]!;
    const res = await t.call(tenant.key, 'POST', '/v1/namespaces/shared/query', {
      query: next() < 0.5 ? other.canary : COMMON_QUERIES[i % COMMON_QUERIES.length],
      topK: 10,
      mode: MODES[i % MODES.length],
    }, { 'x-tenant-id': other.id });
    assert.equal(res.statusCode, 200, res.body);
    assertOwn(tenant, [res.body], `HTTP query ${i}`);
    if (other !== tenant) assert.ok(!res.body.includes(other.id), 'no other tenant id in the response');
  }
});

test('prompts sent to the language model carry only the asking tenant’s text (ask and chat, streamed too)', async () => {
  const next = rng(3);
  for (let i = 0; i < 60; i++) {
    const ti = Math.floor(next() * tenants.length);
    const tenant = tenants[ti]!;
    const other = tenants[(ti + 1 + Math.floor(next() * (tenants.length - 1))) % tenants.length]!;
    const before = llm.requests.length;
    const question = `${COMMON_QUERIES[i % COMMON_QUERIES.length]} ${other.canary}`;
    const kind = i % 3;
    const res =
      kind === 0
        ? await t.call(tenant.key, 'POST', '/v1/namespaces/shared/ask', { question })
        : await t.call(tenant.key, 'POST', '/v1/chat/completions', { model: 'rag:shared', stream: kind === 2, messages: [{ role: 'user', content: question }] });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(llm.requests.length, before + 1, 'one call to the model');
    const prompt = JSON.stringify(llm.requests.at(-1)!.body);
    // The question itself may name another canary (the caller typed it); the sources must not.
    const sources = prompt.replaceAll(other.canary, '');
    assertOwn(tenant, [sources], `prompt ${i}`);
    assert.ok(sources.includes(tenant.canary), 'the prompt holds the caller’s sources');
    const citations = kind === 2 ? res.body : JSON.stringify(res.json().citations);
    assertOwn(tenant, [citations.replaceAll(other.canary, '')], `citations ${i}`);
  }
});

test('a deleted document is unsearchable in the next request, in every mode', async () => {
  const tenant = tenants[0]!;
  assert.equal((await t.call(tenant.key, 'DELETE', '/v1/namespaces/shared/documents/doc-1')).statusCode, 204);
  for (const mode of MODES) {
    const res = await t.call(tenant.key, 'POST', '/v1/namespaces/shared/query', { query: `${tenant.canary} reference code`, topK: 100, mode });
    assert.ok(res.json().results.length > 0);
    assert.ok(res.json().results.every((r: { documentId: string }) => r.documentId === 'doc-0'), mode);
  }
  // Other tenants' doc-1 is untouched.
  const res = await t.call(tenants[1]!.key, 'GET', '/v1/namespaces/shared/documents/doc-1');
  assert.equal(res.statusCode, 200);
});
