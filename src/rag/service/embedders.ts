/**
 * Which embedder a namespace uses, and the instances behind them. A namespace
 * stores its `EmbedderSpec` (kind, model, server, dimension) but never an API
 * key: the key for OpenAI-compatible servers comes from the configuration,
 * and a namespace may only name servers the operator allowed, so a tenant
 * can neither read the key nor send it (or its documents) elsewhere.
 */
import type { RagConfig } from '../../config.js';
import { errors } from '../../errors.js';
import { createEmbedder, type Embedder } from '../embedding/embedder.js';
import type { EmbedderSpec } from '../storage/namespace-records.js';
import type { RagWorkerPool } from '../worker/rag-worker-pool.js';

/** What a client may ask for when creating a namespace. */
export interface EmbedderRequest {
  kind?: 'hash' | 'openai';
  model?: string;
  baseUrl?: string;
  dimension?: number;
}

/** Texts per batch above which hash embedding moves to a worker thread. */
const WORKER_BATCH = 32;

/** Builds and caches embedders by spec; validates what namespaces ask for. */
export class Embedders {
  readonly #instances = new Map<string, Embedder>();

  constructor(
    private readonly config: RagConfig['embeddings'],
    private readonly pool: RagWorkerPool,
  ) {}

  /** Checks a request against the configuration and fills defaults. */
  resolve(request: EmbedderRequest | undefined): EmbedderSpec {
    const kind = request?.kind ?? 'hash';
    if (kind === 'hash') {
      if (request?.model !== undefined || request?.baseUrl !== undefined) throw errors.validation('embedder: the hash embedder takes only a dimension');
      const dimension = request?.dimension ?? 384;
      if (!Number.isInteger(dimension) || dimension < 16 || dimension > 8192) throw errors.validation('embedder.dimension: an integer from 16 to 8192');
      return { kind: 'hash', dimension };
    }
    const allowed = this.config.baseUrls;
    if (allowed.length === 0) throw errors.validation('embedder: no OpenAI-compatible embedding server is configured (TENANTML_EMBEDDINGS_BASE_URLS)');
    const baseUrl = (request?.baseUrl ?? allowed[0]!).replace(/\/+$/, '');
    if (!allowed.some((u) => u.replace(/\/+$/, '') === baseUrl)) {
      throw errors.validation('embedder.baseUrl: not one of the embedding servers this deployment allows', { allowed });
    }
    if (!request?.model) throw errors.validation('embedder.model: required for an openai embedder');
    const dimension = request.dimension;
    if (dimension === undefined || !Number.isInteger(dimension) || dimension < 1 || dimension > 8192) {
      throw errors.validation('embedder.dimension: required for an openai embedder (an integer from 1 to 8192)');
    }
    return { kind: 'openai', baseUrl, model: request.model, dimension };
  }

  /** The stable id recorded with a namespace. */
  idOf(spec: EmbedderSpec): string {
    return spec.kind === 'hash' ? `hash-v1-${spec.dimension}` : `openai:${spec.model}@${spec.dimension}`;
  }

  /** The embedder instance for a spec. */
  get(spec: EmbedderSpec): Embedder {
    const cacheKey = JSON.stringify(spec);
    let e = this.#instances.get(cacheKey);
    if (!e) {
      e = createEmbedder(
        spec.kind === 'hash'
          ? { kind: 'hash', dimension: spec.dimension }
          : { kind: 'openai', baseUrl: spec.baseUrl, model: spec.model, dimension: spec.dimension, ...(this.config.apiKey ? { apiKey: this.config.apiKey } : {}) },
      );
      this.#instances.set(cacheKey, e);
    }
    return e;
  }

  /** Embeds texts; large hash batches run in a worker so the event loop keeps serving. */
  async embed(spec: EmbedderSpec, texts: readonly string[]): Promise<Float32Array[]> {
    if (spec.kind === 'hash' && texts.length > WORKER_BATCH) return this.pool.embedHash(texts, spec.dimension);
    return this.get(spec).embed(texts);
  }
}
