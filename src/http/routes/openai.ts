import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errors, isAppError } from '../../errors.js';
import type { Platform } from '../../platform.js';
import type { ChatMessage } from '../../rag/answers/chat-client.js';
import { chatCompletionChunk, chatCompletionResponse, embeddingsResponse, lastUserMessage, namespaceFromModel } from '../../rag/openai/openai-protocol.js';
import { formatServerSentEvent } from '../../rag/openai/server-sent-events.js';
import { words } from '../../rag/text/tokenize.js';
import { tenantOf } from '../plugins/auth.js';
import { errorResponses } from '../schemas/common.js';
import { ChatCompletionBody, EmbeddingsBody } from '../schemas/rag.js';

const tenant = (operation: string) => ({ operation, auth: 'tenant' as const, limitClass: 'rag' as const });
const tags = ['openai'];

/** Message content as plain text (the array form's text parts joined). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p: { type?: string; text?: string }) => (p.type === 'text' && p.text ? p.text : '')).join(' ').trim();
  return '';
}

/** The OpenAI-compatible surface: chat completions over a namespace (`model: "rag:<namespace>"`) and embeddings. */
export const openAiRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const rag = platform.rag.service;

  app.post(
    '/v1/chat/completions',
    {
      config: tenant('rag.chat'),
      schema: {
        tags,
        body: ChatCompletionBody,
        description: 'OpenAI-compatible. `model: "rag:<namespace>"` answers from that namespace of the caller; `stream: true` answers as server-sent events. Responses carry `citations`.',
        response: errorResponses(400, 404, 503),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const namespace = namespaceFromModel(body.model);
      const question = lastUserMessage(body.messages);
      const messages: ChatMessage[] = body.messages
        .filter((m) => m.role === 'user' || m.role === 'assistant' || m.role === 'system')
        .map((m) => ({ role: m.role as ChatMessage['role'], content: textOf(m.content) }));
      const answer = await rag.search.chat(tenantOf(request).tenantId, namespace, messages, question, body.top_k ?? 5, body.stream === true);
      if (!body.stream) {
        let content = '';
        for await (const piece of answer.pieces) content += piece;
        return chatCompletionResponse(body.model, content, answer.citations);
      }
      const id = `chatcmpl-${randomUUID()}`;
      const log = request.log;
      async function* events(): AsyncGenerator<string> {
        yield formatServerSentEvent(JSON.stringify(chatCompletionChunk(id, body.model, { role: 'assistant', content: '' })));
        try {
          for await (const piece of answer.pieces) yield formatServerSentEvent(JSON.stringify(chatCompletionChunk(id, body.model, { content: piece })));
          yield formatServerSentEvent(JSON.stringify(chatCompletionChunk(id, body.model, {}, 'stop', answer.citations)));
        } catch (err) {
          // Headers are gone: the failure travels in the stream, the way OpenAI reports it.
          log.warn({ err }, 'chat stream failed');
          const message = isAppError(err) ? err.message : 'the answer stream failed';
          yield formatServerSentEvent(JSON.stringify({ error: { message, type: 'server_error', code: isAppError(err) ? err.code : 'internal' } }));
        }
        yield formatServerSentEvent('[DONE]');
      }
      reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache').header('x-accel-buffering', 'no');
      return reply.send(Readable.from(events()));
    },
  );

  app.post(
    '/v1/embeddings',
    {
      config: tenant('rag.embeddings'),
      schema: {
        tags,
        body: EmbeddingsBody,
        description: 'OpenAI-compatible. `model`: "rag:<namespace>" embeds with that namespace\'s embedder; "hash" or "hash-v1-<dimension>" with the built-in one.',
        response: errorResponses(400, 404, 503),
      },
    },
    async (request) => {
      const body = request.body;
      const texts = typeof body.input === 'string' ? [body.input] : body.input;
      const { model, vectors } = await rag.embed(tenantOf(request).tenantId, body.model, texts);
      if (body.dimensions !== undefined && body.dimensions !== vectors[0]?.length) {
        throw errors.validation(`dimensions: this model produces ${vectors[0]?.length} dimensions`);
      }
      const tokens = texts.reduce((n, t) => n + words(t).length, 0);
      const response = embeddingsResponse(model, vectors, tokens);
      if (body.encoding_format !== 'base64') return response;
      return {
        ...response,
        data: vectors.map((v, index) => ({ object: 'embedding' as const, index, embedding: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') })),
      };
    },
  );
};
