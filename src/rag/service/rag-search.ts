/**
 * Search and answers inside one tenant's namespace. The vector list comes from
 * the namespace's index (keyed by tenant), the lexical list from the BM25
 * index beside it (Postgres full-text search under RLS while that index is
 * missing); both are fused with RRF, and every hit is re-read
 * by label through `withTenant`, so a hit RLS does not return is dropped and
 * raises an isolation alarm instead of reaching the caller.
 */
import type { Db } from '../../db/db.js';
import { errors } from '../../errors.js';
import type { Answer, Citation, RetrievedChunk } from '../answers/answer.js';
import type { ChatClient, ChatMessage } from '../answers/chat-client.js';
import { answerExtractively } from '../answers/extractive-answerer.js';
import { buildGroundedPrompt } from '../answers/grounded-prompt.js';
import { type MetadataFilter, matchesMetadataFilter, parseMetadataFilter } from '../search/metadata-filter.js';
import { reciprocalRankFusion } from '../search/reciprocal-rank-fusion.js';
import type { InvalidationBus } from '../../serving/invalidation-bus.js';
import { chunksByLabelWithGeneration, documentMetadata, labelsOfDocuments, lexicalSearch } from '../storage/document-records.js';
import { findNamespace, type NamespaceRecord } from '../storage/namespace-records.js';
import { chunkIdOf } from './document-ingestor.js';
import type { Embedders } from './embedders.js';
import type { NamespaceIndexes, NamespaceIndexSet } from './namespace-indexes.js';
import { NamespaceRecordCache } from './namespace-record-cache.js';
import type { RagMetrics } from './rag-metrics.js';

/** How results are found: embeddings, words, or both fused. */
export type SearchMode = 'hybrid' | 'vector' | 'lexical';

/** A search request. */
export interface SearchRequest {
  query: string;
  topK: number;
  filter?: unknown;
  mode?: SearchMode;
}

/** One ranked result. */
export interface SearchResult {
  documentId: string;
  chunkId: string;
  page: number;
  text: string;
  /** Fused RRF score (hybrid), cosine similarity (vector), or BM25 (lexical; `ts_rank_cd` while the in-memory index is unavailable). */
  score: number;
  metadata: Record<string, unknown>;
  headingPath: string[];
  documentTitle: string | null;
}

/** An answer with its citations and how it was made. */
export interface AskResult extends Answer {
  mode: 'extractive' | 'generated';
}

/** A chat turn's answer: whole, or as a stream of text pieces. */
export interface ChatAnswer {
  citations: Citation[];
  /** The answer in pieces, in order (one piece when not streamed from a model). */
  pieces: AsyncGenerator<string>;
}

/** Hard upper bound on topK, so one request cannot ask for a whole namespace. */
export const MAX_TOP_K = 100;

/** A query retries at most this often when its index turns out older than the rows (then serves what it has). */
const MAX_ATTEMPTS = 2;

/** One pass of a search: results, or why it must look again. */
type SearchOutcome =
  | { kind: 'done'; results: SearchResult[] }
  | { kind: 'namespace-gone' }
  | { kind: 'stale-index'; generation: number; results: SearchResult[] };

/** Hybrid fusion looks at this many candidates per list for every result returned. */
const CANDIDATES_PER_RESULT = 2;

export interface RagSearchOptions {
  db: Db;
  bus: InvalidationBus;
  embedders: Embedders;
  indexes: NamespaceIndexes;
  metrics: RagMetrics;
  chat: ChatClient | undefined;
  log?: (level: 'warn' | 'error', message: string, details: Record<string, unknown>) => void;
}

/** Searches and answers for every tenant, one tenant per call. */
export class RagSearch {
  readonly #records = new NamespaceRecordCache();
  readonly #unsubscribe: () => void;

  constructor(private readonly o: RagSearchOptions) {
    this.#unsubscribe = o.bus.subscribe((event) => {
      if (event.type === 'tenant-purged') this.#records.forgetTenant(event.tenantId);
      // A deleted namespace is announced with the largest generation.
      else if (event.type === 'index-changed' && event.generation === Number.MAX_SAFE_INTEGER) this.#records.forget(event.tenantId, event.namespace);
    });
  }

  /** Ranked chunks of the caller's namespace. */
  async search(tenantId: string, namespace: string, request: SearchRequest): Promise<SearchResult[]> {
    const mode = request.mode ?? 'hybrid';
    const topK = request.topK;
    if (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K) throw errors.validation(`topK: an integer from 1 to ${MAX_TOP_K}`);
    if (request.query.trim() === '') throw errors.validation('query: must not be empty');
    const filter = parseMetadataFilter(request.filter);
    this.o.metrics.queries.inc({ mode });
    let ns = await this.#namespace(tenantId, namespace, false);
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#searchOnce(tenantId, ns, request.query, topK, mode, filter);
      if (outcome.kind === 'done') return outcome.results;
      // The namespace was deleted (or replaced) since it was cached, or the index was older than the rows: look again.
      if (outcome.kind === 'namespace-gone') {
        this.#records.forget(tenantId, ns.id);
        ns = await this.#namespace(tenantId, namespace, true);
      } else {
        ns = { ...ns, generation: outcome.generation };
        this.#records.remember(tenantId, ns);
        if (attempt >= MAX_ATTEMPTS) return outcome.results;
      }
    }
  }

  /** Forgets a cached namespace record (deleted here). */
  forgetNamespace(tenantId: string, namespaceId: string): void {
    this.#records.forget(tenantId, namespaceId);
  }

  /** Stops listening to the bus. */
  close(): void {
    this.#unsubscribe();
  }

  async #namespace(tenantId: string, name: string, fresh: boolean): Promise<NamespaceRecord> {
    const cached = fresh ? undefined : this.#records.get(tenantId, name);
    if (cached) return cached;
    const ns = await this.o.db.withTenant(tenantId, (tx) => findNamespace(tx, name));
    this.#records.remember(tenantId, ns);
    return ns;
  }

  async #searchOnce(tenantId: string, ns: NamespaceRecord, query: string, topK: number, mode: SearchMode, filter: MetadataFilter): Promise<SearchOutcome> {
    const indexes = await this.o.indexes.acquireSet(tenantId, ns);
    let ranked: Array<{ id: number; score: number }>;
    let indexGeneration: number;
    try {
      ranked = await this.#rank(tenantId, ns, indexes, query, topK, mode, filter);
      indexGeneration = indexes.vector.generation;
    } finally {
      indexes.release();
    }
    return this.#hydrate(tenantId, ns, indexGeneration, ranked);
  }

  /** The fused (or single-mode) ranking of labels, from the leased indexes and, where needed, Postgres. */
  async #rank(
    tenantId: string,
    ns: NamespaceRecord,
    indexes: NamespaceIndexSet,
    query: string,
    topK: number,
    mode: SearchMode,
    filter: MetadataFilter,
  ): Promise<Array<{ id: number; score: number }>> {
    const filtered = Object.keys(filter).length > 0;
    const candidates = mode === 'hybrid' ? topK * CANDIDATES_PER_RESULT : topK;
    const memoryLexical = mode !== 'vector' ? indexes.lexical : undefined;
    const sqlLexical = mode !== 'vector' && !memoryLexical;

    let allowedLabels: Set<number> | undefined;
    let lexical: Array<{ id: number; score: number }> = [];
    if (filtered || sqlLexical) {
      // Metadata filters need the database before ranking; so does lexical ranking when the in-memory index is missing.
      const first = await this.o.db.withTenant(tenantId, async (tx) => {
        let allowedDocs: string[] | undefined;
        let labels: Set<number> | undefined;
        if (filtered) {
          allowedDocs = (await documentMetadata(tx, ns.id)).filter((d) => matchesMetadataFilter(d.metadata, filter)).map((d) => d.id);
          labels = new Set(await labelsOfDocuments(tx, ns.id, allowedDocs));
        }
        return { labels, lexical: sqlLexical ? await lexicalSearch(tx, ns.id, query, candidates, allowedDocs) : [] };
      });
      allowedLabels = first.labels;
      lexical = first.lexical;
    }
    const allow = allowedLabels ? (id: number) => allowedLabels.has(id) : undefined;
    if (memoryLexical && (!allowedLabels || allowedLabels.size > 0)) lexical = memoryLexical.search(query, candidates, allow);

    let vector: Array<{ id: number; score: number }> = [];
    if (mode !== 'lexical' && (!allowedLabels || allowedLabels.size > 0)) {
      const [q] = await this.o.embedders.embed(ns.embedder, [query]);
      vector = indexes.vector.search(q!, candidates, allow);
    }

    return mode === 'hybrid'
      ? reciprocalRankFusion([vector, lexical], { limit: topK }).map((h) => ({ id: h.id, score: h.score }))
      : (mode === 'vector' ? vector : lexical).slice(0, topK);
  }

  /** Answers a question from the namespace: extractive, or generated from the retrieved chunks when a chat model is configured. */
  async ask(tenantId: string, namespace: string, question: string, topK = 5): Promise<AskResult> {
    const chunks = await this.retrieve(tenantId, namespace, question, topK);
    if (!this.o.chat) return { ...answerExtractively(question, chunks), mode: 'extractive' };
    const prompt = buildGroundedPrompt(question, chunks);
    const completion = await this.o.chat.complete(prompt.messages);
    return { answer: completion.content, citations: prompt.sources.map(toCitation), mode: 'generated' };
  }

  /** A chat turn: the last user message is the question, earlier user/assistant turns are history. */
  async chat(tenantId: string, namespace: string, messages: readonly ChatMessage[], question: string, topK = 5, stream = false): Promise<ChatAnswer> {
    const chunks = await this.retrieve(tenantId, namespace, question, topK);
    if (!this.o.chat) {
      const answer = answerExtractively(question, chunks);
      return { citations: answer.citations, pieces: stream ? words(answer.answer) : once(answer.answer) };
    }
    const history = historyOf(messages);
    const prompt = buildGroundedPrompt(question, chunks, { history });
    const chat = this.o.chat;
    if (!stream) {
      const completion = await chat.complete(prompt.messages);
      return { citations: prompt.sources.map(toCitation), pieces: once(completion.content) };
    }
    async function* pieces(): AsyncGenerator<string> {
      for await (const delta of chat.stream(prompt.messages)) if (delta.content) yield delta.content;
    }
    return { citations: prompt.sources.map(toCitation), pieces: pieces() };
  }

  /** Hybrid retrieval shaped for the answerers. */
  async retrieve(tenantId: string, namespace: string, question: string, topK: number): Promise<RetrievedChunk[]> {
    if (question.trim() === '') throw errors.validation('question: must not be empty');
    const results = await this.search(tenantId, namespace, { query: question, topK, mode: 'hybrid' });
    return results.map((r) => ({
      chunkId: r.chunkId,
      documentId: r.documentId,
      page: r.page,
      text: r.text,
      headingPath: r.headingPath,
      ...(r.documentTitle ? { documentTitle: r.documentTitle } : {}),
      score: r.score,
    }));
  }

  /** Re-reads ranked labels under RLS, in rank order; a label that does not come back is dropped and alarmed. */
  async #hydrate(tenantId: string, ns: NamespaceRecord, indexGeneration: number, ranked: Array<{ id: number; score: number }>): Promise<SearchOutcome> {
    // One statement: the namespace's generation (is it still there, was the index current?) and the hits by label.
    const labels = ranked.map((r) => r.id);
    const { chunks: rows, generation } = await this.o.db.withTenant(tenantId, (tx) => chunksByLabelWithGeneration(tx, ns.id, labels));
    if (generation === undefined) return { kind: 'namespace-gone' };
    const byLabel = new Map(rows.map((r) => [r.label, r]));
    const out: SearchResult[] = [];
    const missing: number[] = [];
    for (const hit of ranked) {
      const row = byLabel.get(hit.id);
      if (!row) {
        missing.push(hit.id);
        continue;
      }
      out.push({
        documentId: row.documentId,
        chunkId: chunkIdOf(row.documentId, row.ord),
        page: row.page,
        text: row.text,
        score: hit.score,
        metadata: row.metadata,
        headingPath: row.headingPath,
        documentTitle: row.documentTitle,
      });
    }
    // A concurrent delete (the generation moved) explains a missing row; anything else is an isolation failure upstream.
    if (missing.length > 0 && generation === indexGeneration) {
      this.o.metrics.isolationAlarms.inc(missing.length);
      this.o.log?.('error', 'ISOLATION ALARM: index hits not visible to the tenant under RLS were dropped', {
        tenantId,
        namespaceId: ns.id,
        labels: missing.slice(0, 20),
      });
    }
    return generation > indexGeneration ? { kind: 'stale-index', generation, results: out } : { kind: 'done', results: out };
  }
}

function toCitation(chunk: RetrievedChunk): Citation {
  return { documentId: chunk.documentId, chunkId: chunk.chunkId, page: chunk.page, text: chunk.text };
}

/** Earlier user/assistant turns; client system messages are dropped so only our instructions frame the sources. */
function historyOf(messages: readonly ChatMessage[]): ChatMessage[] {
  let last = -1;
  messages.forEach((m, i) => {
    if (m.role === 'user') last = i;
  });
  return messages.slice(0, Math.max(0, last)).filter((m) => m.role === 'user' || m.role === 'assistant');
}

async function* once(text: string): AsyncGenerator<string> {
  yield text;
}

async function* words(text: string): AsyncGenerator<string> {
  const parts = text.match(/\S+\s*/g) ?? [text];
  for (const p of parts) yield p;
}
