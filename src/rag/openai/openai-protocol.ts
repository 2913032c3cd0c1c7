import { randomUUID } from 'node:crypto';
import { errors } from '../../errors.js';
import type { Citation } from '../answers/answer.js';

/** The model name prefix that routes a chat request to a RAG namespace. */
export const RAG_MODEL_PREFIX = 'rag:';

/** The namespace named by `model: "rag:<namespace>"`; other model names are a validation error. */
export function namespaceFromModel(model: unknown): string {
  if (typeof model !== 'string' || !model.startsWith(RAG_MODEL_PREFIX) || model.length === RAG_MODEL_PREFIX.length) {
    throw errors.validation(`model must be "${RAG_MODEL_PREFIX}<namespace>"`, { model });
  }
  return model.slice(RAG_MODEL_PREFIX.length);
}

/** The question of an OpenAI chat request: the content of its last user message. */
export function lastUserMessage(messages: unknown): string {
  if (!Array.isArray(messages)) throw errors.validation('messages must be an array');
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | null;
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    // The array form: [{type: 'text', text: '...'}, ...]
    if (Array.isArray(m.content)) {
      return m.content.map((p: { type?: unknown; text?: unknown }) => (p?.type === 'text' && typeof p.text === 'string' ? p.text : '')).join(' ').trim();
    }
  }
  throw errors.validation('messages must contain a user message');
}

/** A non-streaming `chat.completion` body; citations ride along as an extension field. */
export function chatCompletionResponse(model: string, content: string, citations: Citation[], created = nowSeconds()) {
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion' as const,
    created,
    model,
    choices: [{ index: 0, message: { role: 'assistant' as const, content }, finish_reason: 'stop' as const }],
    citations,
  };
}

/** One streamed `chat.completion.chunk`; the first carries the role, the last the finish reason and citations. */
export function chatCompletionChunk(
  id: string,
  model: string,
  delta: { role?: 'assistant'; content?: string },
  finishReason: 'stop' | 'length' | null = null,
  citations?: Citation[],
  created = nowSeconds(),
) {
  return {
    id,
    object: 'chat.completion.chunk' as const,
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
    ...(citations ? { citations } : {}),
  };
}

/** An `/v1/embeddings` response body. */
export function embeddingsResponse(model: string, vectors: readonly Float32Array[], promptTokens: number) {
  return {
    object: 'list' as const,
    model,
    data: vectors.map((v, index) => ({ object: 'embedding' as const, index, embedding: Array.from(v) })),
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
