import { errors } from '../../errors.js';
import { postJson } from '../openai/openai-endpoint.js';
import type { Embedder, OpenAiEmbedderConfig } from './embedder.js';
import { normalizeInPlace } from './embedder.js';

interface EmbeddingsResponse {
  data?: Array<{ index?: number; embedding?: unknown }>;
}

/**
 * Embeds through any OpenAI-compatible `/embeddings` endpoint: batched,
 * retried with backoff (see `postJson`), every vector checked against the
 * namespace's fixed dimension and normalised so dot product is cosine.
 */
export function createOpenAiEmbedder(config: OpenAiEmbedderConfig): Embedder {
  const batchSize = config.batchSize ?? 64;
  if (!Number.isInteger(config.dimension) || config.dimension < 1) throw errors.validation('openai embedder needs a positive integer dimension');
  if (!config.model) throw errors.validation('openai embedder needs a model name');
  const what = `embedding server ${config.baseUrl}`;

  async function embedBatch(batch: readonly string[]): Promise<Float32Array[]> {
    const response = await postJson(config, '/embeddings', { model: config.model, input: batch, encoding_format: 'float' }, what);
    const body = (await response.json()) as EmbeddingsResponse;
    const data = body.data;
    if (!Array.isArray(data) || data.length !== batch.length) {
      throw errors.unavailable(`${what} returned ${Array.isArray(data) ? data.length : 'no'} embeddings for ${batch.length} inputs`);
    }
    const out = new Array<Float32Array>(batch.length);
    data.forEach((item, position) => {
      const index = typeof item.index === 'number' ? item.index : position;
      const e = item.embedding;
      if (!Array.isArray(e) || !e.every((x) => typeof x === 'number')) throw errors.unavailable(`${what} returned a malformed embedding`);
      if (e.length !== config.dimension) {
        throw errors.validation(`${what} returned ${e.length}-dimensional vectors but the namespace is fixed at ${config.dimension}`, {
          expected: config.dimension,
          actual: e.length,
        });
      }
      out[index] = normalizeInPlace(Float32Array.from(e as number[]));
    });
    if (out.some((v) => v === undefined)) throw errors.unavailable(`${what} returned duplicate embedding indexes`);
    return out;
  }

  return {
    id: `openai-${config.model}-${config.dimension}`,
    dimension: config.dimension,
    async embed(texts) {
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += batchSize) out.push(...(await embedBatch(texts.slice(i, i + batchSize))));
      return out;
    },
  };
}
