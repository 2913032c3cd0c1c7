import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_ANSWER, type RetrievedChunk } from '../../../src/rag/answers/answer.js';
import { createChatClient } from '../../../src/rag/answers/chat-client.js';
import { answerExtractively } from '../../../src/rag/answers/extractive-answerer.js';
import { buildGroundedPrompt } from '../../../src/rag/answers/grounded-prompt.js';
import { chatCompletionChunk, lastUserMessage, namespaceFromModel } from '../../../src/rag/openai/openai-protocol.js';
import { formatServerSentEvent, parseServerSentEvents } from '../../../src/rag/openai/server-sent-events.js';
import { type StubServer, sendJson, startStubServer } from './stub-server.js';

const CHUNKS: RetrievedChunk[] = [
  {
    chunkId: 'c1',
    documentId: 'handbook',
    page: 4,
    text: 'Our office opens at nine. Customers may request a refund within thirty days of purchase. Refunds go back to the original card.',
  },
  { chunkId: 'c2', documentId: 'faq', page: 1, text: 'Shipping is free above fifty euros. Gift cards cannot be refunded.' },
  { chunkId: 'c3', documentId: 'faq', page: 2, text: 'The cafeteria serves lunch from noon.' },
];

describe('extractive answers', () => {
  it('quotes the best-supported sentences and cites document, page and text', () => {
    const { answer, citations } = answerExtractively('How many days do customers have to request a refund?', CHUNKS);
    assert.match(answer, /^Customers may request a refund within thirty days of purchase\. \[1\]/);
    assert.deepEqual(citations[0], { documentId: 'handbook', chunkId: 'c1', page: 4, text: citations[0]!.text });
    assert.ok(citations[0]!.text.startsWith('Customers may request a refund within thirty days'));
    assert.ok(!answer.includes('cafeteria'));
    assert.ok(!answer.includes('office opens'));
    for (const c of citations) assert.ok(CHUNKS.some((k) => k.chunkId === c.chunkId && k.text.includes(c.text.split(' ').slice(0, 5).join(' '))));
  });

  it('numbers citations in the order they appear', () => {
    const { answer, citations } = answerExtractively('refund gift cards', CHUNKS, { maxSentences: 3, minRelativeGain: 0 });
    const markers = [...answer.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    assert.equal(markers[0], 1);
    assert.equal(Math.max(...markers), citations.length);
    assert.ok(citations.some((c) => c.chunkId === 'c2'), 'the gift card sentence is cited');
  });

  it('says so when nothing supports an answer', () => {
    assert.deepEqual(answerExtractively('quantum chromodynamics lattice', CHUNKS), { answer: NO_ANSWER, citations: [] });
    assert.deepEqual(answerExtractively('anything', []), { answer: NO_ANSWER, citations: [] });
    assert.deepEqual(answerExtractively('the of and', CHUNKS), { answer: NO_ANSWER, citations: [] });
  });
});

describe('grounded prompt', () => {
  it('contains only the chunks passed in, numbered, within the budget', () => {
    const { messages, sources } = buildGroundedPrompt('What is the refund window?', CHUNKS, { maxContextChars: 260 });
    assert.equal(messages[0]!.role, 'system');
    assert.match(messages[0]!.content, /only the numbered sources/);
    const user = messages[messages.length - 1]!.content;
    assert.deepEqual(sources.map((s) => s.chunkId), ['c1', 'c2'], 'the third chunk is over budget');
    assert.match(user, /\[1\] \(document handbook, page 4\)\nOur office opens/);
    assert.match(user, /\[2\] \(document faq, page 1\)/);
    assert.ok(!user.includes('cafeteria'));
    assert.ok(user.endsWith('Question: What is the refund window?'));
    const empty = buildGroundedPrompt('q', []);
    assert.match(empty.messages[1]!.content, /none found/);
  });
});

describe('server-sent events', () => {
  async function* chunked(text: string, size: number) {
    const bytes = new TextEncoder().encode(text);
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  const collect = async (text: string, size: number) => {
    const out = [];
    for await (const e of parseServerSentEvents(chunked(text, size))) out.push(e);
    return out;
  };

  it('parses events split anywhere, with CRLF, comments and multi-line data', async () => {
    const stream = ': keep-alive\r\ndata: {"a":1}\r\n\r\nevent: note\ndata: line one\ndata:line two\nid: 7\n\ndata: é\r\rdata: tail-without-blank-line';
    const expected = [
      { event: 'message', data: '{"a":1}' },
      { event: 'note', data: 'line one\nline two', id: '7' },
      { event: 'message', data: 'é', id: '7' },
    ];
    for (const size of [1, 2, 3, 7, 1000]) assert.deepEqual(await collect(stream, size), expected, `chunk size ${size}`);
  });

  it('formats events that parse back', async () => {
    const text = formatServerSentEvent('a\nb') + formatServerSentEvent('[DONE]', 'end');
    assert.deepEqual(await collect(text, 5), [{ event: 'message', data: 'a\nb' }, { event: 'end', data: '[DONE]' }]);
  });
});

describe('chat client against a stub server', () => {
  let stub: StubServer;
  let failFirst = false;
  before(async () => {
    stub = await startStubServer((req, res) => {
      const body = req.body as { stream: boolean; messages: Array<{ content: string }> };
      if (failFirst) {
        failFirst = false;
        sendJson(res, 502, { error: { message: 'bad gateway' } });
        return;
      }
      if (!body.stream) {
        sendJson(res, 200, { model: 'stub-1', choices: [{ message: { role: 'assistant', content: `echo: ${body.messages.at(-1)!.content}` }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const id = 'chatcmpl-1';
      res.write(formatServerSentEvent(JSON.stringify(chatCompletionChunk(id, 'stub-1', { role: 'assistant' }))));
      for (const piece of ['Refunds ', 'take ', '30 days [1].']) res.write(formatServerSentEvent(JSON.stringify(chatCompletionChunk(id, 'stub-1', { content: piece }))));
      res.write(formatServerSentEvent(JSON.stringify(chatCompletionChunk(id, 'stub-1', {}, 'stop'))));
      res.end(formatServerSentEvent('[DONE]'));
    });
  });
  after(() => stub.close());

  it('completes, retrying a 502, and sends model, messages and temperature 0', async () => {
    failFirst = true;
    stub.requests.length = 0;
    const client = createChatClient({ baseUrl: stub.baseUrl, model: 'stub-1', retryBaseMs: 1 });
    const result = await client.complete([{ role: 'user', content: 'hi' }]);
    assert.deepEqual(result, { content: 'echo: hi', finishReason: 'stop', model: 'stub-1', usage: { promptTokens: 5, completionTokens: 2, totalTokens: 7 } });
    assert.equal(stub.requests.length, 2);
    assert.deepEqual(stub.requests[1]!.body, { model: 'stub-1', messages: [{ role: 'user', content: 'hi' }], temperature: 0, stream: false });
  });

  it('streams deltas until [DONE]', async () => {
    const client = createChatClient({ baseUrl: stub.baseUrl, model: 'stub-1' });
    const deltas = [];
    for await (const d of client.stream([{ role: 'user', content: 'refund?' }])) deltas.push(d);
    assert.equal(deltas.map((d) => d.content).join(''), 'Refunds take 30 days [1].');
    assert.equal(deltas.at(-1)!.finishReason, 'stop');
  });
});

describe('OpenAI protocol helpers', () => {
  it('routes rag:<namespace> models and finds the question', () => {
    assert.equal(namespaceFromModel('rag:handbook'), 'handbook');
    assert.throws(() => namespaceFromModel('gpt-4o'), /rag:<namespace>/);
    assert.throws(() => namespaceFromModel('rag:'), /rag:<namespace>/);
    assert.equal(lastUserMessage([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: [{ type: 'text', text: 'c' }] }]), 'c');
    assert.throws(() => lastUserMessage([{ role: 'system', content: 'x' }]), /user message/);
  });
});
