import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isAppError } from '../../../src/errors.js';
import { createEmbedder } from '../../../src/rag/embedding/embedder.js';
import { hashEmbed } from '../../../src/rag/embedding/hash-embedder.js';
import { type StubServer, sendJson, startStubServer } from './stub-server.js';

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

const PASSAGES = [
  'Customers can request a full refund within thirty days of purchase by contacting support.',
  'Orders are shipped from our warehouse within two business days; delivery takes a week.',
  'To reset your password, open the login page and click the forgot password link.',
  'Our office is closed on public holidays and weekends; support answers email on Monday.',
  'The premium plan includes unlimited projects, priority support and single sign-on.',
  'Invoices are issued monthly and can be paid by credit card or bank transfer.',
  'Data is encrypted at rest with AES-256 and in transit with TLS 1.3.',
  'You can export all your data as CSV from the settings page at any time.',
];
const QUERIES: Array<[string, number]> = [
  ['how do I get my money back after buying', 0],
  ['when will my order ship', 1],
  ['I forgot my password', 2],
  ['are you open on holidays', 3],
  ['what does the premium plan include', 4],
  ['how can I pay an invoice', 5],
  ['is my data encrypted', 6],
  ['export data to csv', 7],
];

describe('hash embedder', () => {
  const embedder = createEmbedder({ kind: 'hash' });

  it('is deterministic, normalised and of the configured dimension', async () => {
    const [a, b] = await embedder.embed(['Refund policy', 'Refund policy']);
    assert.equal(embedder.id, 'hash-v1-384');
    assert.equal(a!.length, 384);
    assert.deepEqual(a, b);
    assert.ok(Math.abs(dot(a!, a!) - 1) < 1e-5);
    assert.ok(hashEmbed('', 64).every((x) => x === 0), 'empty text embeds to zeros');
    assert.equal(createEmbedder({ kind: 'hash', dimension: 128 }).dimension, 128);
    assert.throws(() => createEmbedder({ kind: 'hash', dimension: 3 }), /dimension/);
  });

  it('retrieves the right passage for paraphrased questions', async () => {
    const docs = await embedder.embed(PASSAGES);
    let hits = 0;
    for (const [q, expected] of QUERIES) {
      const [qv] = await embedder.embed([q]);
      const scores = docs.map((d) => dot(qv!, d));
      const best = scores.indexOf(Math.max(...scores));
      if (best === expected) hits++;
    }
    assert.ok(hits >= 7, `top-1 right for ${hits}/8 queries`);
  });

  it('scores inflected forms and typos above unrelated text', async () => {
    const [q, related, typo, unrelated] = await embedder.embed(['refunds shipped', 'refund shipping', 'refnds shiped', 'password reset link']);
    assert.ok(dot(q!, related!) > 0.5);
    assert.ok(dot(q!, typo!) > dot(q!, unrelated!) + 0.1);
  });
});

describe('openai embedder against a stub server', () => {
  let stub: StubServer;
  let failuresLeft = 0;
  let dimensionServed = 4;

  before(async () => {
    stub = await startStubServer((req, res) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        sendJson(res, failuresLeft % 2 ? 503 : 429, { error: { message: 'busy' } }, { 'retry-after': '0' });
        return;
      }
      const body = req.body as { input: string[]; model: string };
      // Reverse the order to check that the client sorts by `index`.
      const data = body.input.map((text, index) => ({ index, embedding: Array.from({ length: dimensionServed }, (_, j) => (j === 0 ? text.length : 1)) }));
      sendJson(res, 200, { object: 'list', model: body.model, data: data.reverse() });
    });
  });
  after(() => stub.close());

  const config = () => ({ kind: 'openai' as const, baseUrl: stub.baseUrl, model: 'm1', dimension: 4, apiKey: 'sk-test', batchSize: 2, retryBaseMs: 1 });

  it('batches, orders by index, normalises and sends the key', async () => {
    stub.requests.length = 0;
    const e = createEmbedder(config());
    assert.equal(e.id, 'openai-m1-4');
    const out = await e.embed(['a', 'bbb', 'ccccccc']);
    assert.equal(stub.requests.length, 2);
    assert.deepEqual((stub.requests[0]!.body as { input: string[] }).input, ['a', 'bbb']);
    assert.equal(stub.requests[0]!.url, '/v1/embeddings');
    assert.equal(stub.requests[0]!.headers.authorization, 'Bearer sk-test');
    const expected = (n: number) => n / Math.sqrt(n * n + 3);
    out.forEach((v, i) => {
      assert.ok(Math.abs(v[0]! - expected([1, 3, 7][i]!)) < 1e-6);
    });
  });

  it('retries 429 and 503 with backoff, then succeeds', async () => {
    failuresLeft = 3;
    stub.requests.length = 0;
    const out = await createEmbedder(config()).embed(['x']);
    assert.equal(out.length, 1);
    assert.equal(stub.requests.length, 4);
  });

  it('gives up with unavailable after the retries', async () => {
    failuresLeft = 10;
    await assert.rejects(createEmbedder({ ...config(), maxRetries: 2 }).embed(['x']), (e: unknown) => isAppError(e) && e.code === 'unavailable' && /3 attempts/.test(e.message));
    failuresLeft = 0;
  });

  it('rejects vectors of the wrong dimension', async () => {
    dimensionServed = 5;
    await assert.rejects(createEmbedder(config()).embed(['x']), /5-dimensional .* fixed at 4/);
    dimensionServed = 4;
  });
});
