import { errors } from '../../errors.js';
import { type OpenAiEndpointConfig, postJson } from '../openai/openai-endpoint.js';
import { parseServerSentEvents } from '../openai/server-sent-events.js';

/** One chat turn in OpenAI's format. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** An OpenAI-compatible chat endpoint and the model to ask. */
export interface ChatClientConfig extends OpenAiEndpointConfig {
  model: string;
  /** Default 0: answers grounded in sources should not be creative. */
  temperature?: number;
  maxTokens?: number;
}

/** A finished completion. */
export interface ChatCompletion {
  content: string;
  finishReason: string | null;
  model: string;
  usage?: { promptTokens: number; completionTokens: number; totalTokens: number };
}

/** One streamed piece of a completion. */
export interface ChatDelta {
  content: string;
  finishReason: string | null;
}

/** Per-call options. */
export interface ChatCallOptions {
  signal?: AbortSignal;
}

/** Talks to any server implementing OpenAI's `/chat/completions`. */
export interface ChatClient {
  readonly model: string;
  complete(messages: readonly ChatMessage[], options?: ChatCallOptions): Promise<ChatCompletion>;
  /** Streams deltas as the server produces them (SSE, ends at `[DONE]`). */
  stream(messages: readonly ChatMessage[], options?: ChatCallOptions): AsyncGenerator<ChatDelta>;
}

interface CompletionBody {
  model?: string;
  choices?: Array<{ message?: { content?: unknown }; delta?: { content?: unknown }; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
}

/** Builds a chat client; retries and error mapping are those of `postJson`. */
export function createChatClient(config: ChatClientConfig): ChatClient {
  if (!config.model) throw errors.validation('chat client needs a model name');
  const what = `chat server ${config.baseUrl}`;
  const request = (messages: readonly ChatMessage[], stream: boolean) => ({
    model: config.model,
    messages,
    temperature: config.temperature ?? 0,
    ...(config.maxTokens === undefined ? {} : { max_tokens: config.maxTokens }),
    stream,
  });

  return {
    model: config.model,
    async complete(messages, options = {}) {
      const response = await postJson(config, '/chat/completions', request(messages, false), what, options.signal);
      const body = (await response.json()) as CompletionBody;
      const choice = body.choices?.[0];
      const content = choice?.message?.content;
      if (typeof content !== 'string') throw errors.unavailable(`${what} returned no message content`);
      const u = body.usage;
      return {
        content,
        finishReason: choice?.finish_reason ?? null,
        model: body.model ?? config.model,
        ...(u ? { usage: { promptTokens: u.prompt_tokens ?? 0, completionTokens: u.completion_tokens ?? 0, totalTokens: u.total_tokens ?? 0 } } : {}),
      };
    },
    async *stream(messages, options = {}) {
      const response = await postJson(config, '/chat/completions', request(messages, true), what, options.signal);
      if (!response.body) throw errors.unavailable(`${what} sent an empty stream`);
      for await (const event of parseServerSentEvents(response.body)) {
        if (event.data.trim() === '[DONE]') return;
        let chunk: CompletionBody & { error?: { message?: string } };
        try {
          chunk = JSON.parse(event.data) as typeof chunk;
        } catch {
          throw errors.unavailable(`${what} sent a malformed stream event`);
        }
        if (chunk.error) throw errors.unavailable(`${what} failed mid-stream: ${chunk.error.message ?? 'unknown error'}`);
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        const content = typeof choice.delta?.content === 'string' ? choice.delta.content : '';
        if (content || choice.finish_reason) yield { content, finishReason: choice.finish_reason ?? null };
      }
    },
  };
}
