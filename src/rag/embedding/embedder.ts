import { errors } from '../../errors.js';
import type { OpenAiEndpointConfig } from '../openai/openai-endpoint.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createOpenAiEmbedder } from './openai-embedder.js';

/**
 * Turns texts into L2-normalised vectors of a fixed dimension. A namespace
 * records the `id` and `dimension` it was created with and never mixes them.
 */
export interface Embedder {
  /** Stable name of the model and its settings, e.g. `hash-v1-384`. */
  readonly id: string;
  readonly dimension: number;
  /** One vector per text, in order, each of length `dimension` and unit norm (or all zeros for empty text). */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

/** The deterministic, weight-free default. */
export interface HashEmbedderConfig {
  kind: 'hash';
  /** Default 384. */
  dimension?: number;
}

/** Any server speaking OpenAI's `/v1/embeddings`. */
export interface OpenAiEmbedderConfig extends OpenAiEndpointConfig {
  kind: 'openai';
  model: string;
  /** The namespace's fixed dimension; responses of another length are rejected. */
  dimension: number;
  /** Texts per request (default 64). */
  batchSize?: number;
}

/** Configuration of any embedder. */
export type EmbedderConfig = HashEmbedderConfig | OpenAiEmbedderConfig;

/** Builds the embedder a configuration names. */
export function createEmbedder(config: EmbedderConfig): Embedder {
  switch (config.kind) {
    case 'hash':
      return createHashEmbedder(config);
    case 'openai':
      return createOpenAiEmbedder(config);
    default:
      throw errors.validation(`unknown embedder kind '${(config as { kind: unknown }).kind}'`);
  }
}

/** Scales a vector to unit length in place (a zero vector stays zero). */
export function normalizeInPlace(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  if (sum > 0) {
    const inv = 1 / Math.sqrt(sum);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
  }
  return v;
}
