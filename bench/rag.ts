/**
 * RAG end to end through the service layer at the scale: T tenants ×
 * C chunks of real English text (Markdown found in node_modules, re-mixed
 * into paragraphs), hash embeddings, 384 dimensions.
 *
 * Setup: the first `--ingest-tenants` tenants go through the real ingestion
 * path (upload → parse in a worker → chunk → embed → one transaction → index
 * update), which is what the ingestion figures measure, plus generated PDFs
 * for pages/s. The other tenants are written in bulk (`_rag-bulk-load.ts`:
 * one transaction per tenant under `withTenant`, batched inserts, the index
 * updated in place and written back as after an upload). The setup ends with
 * `Db.maintain` (VACUUM ANALYZE and a CHECKPOINT): the maintenance a server
 * would otherwise run during the query phases, and which embedded PGlite
 * never runs by itself (`tenantml maintain`).
 *
 * Reports: warm query latency per mode (index resident), cold latency (the
 * tenant's index evicted, so the query loads it from the artifact store),
 * recall@10 of HNSW against the exact scan on the same embeddings (one
 * namespace, and 10 namespaces pooled), GC pauses during the query phases,
 * and the targets of issue 7.
 *
 *   npm run bench -- rag [--tenants 200] [--chunks 2000] [--queries 300] [--cold 200] [--ingest-tenants 2]
 * Uses the PostgreSQL server at DATABASE_URL when set, otherwise PGlite in a temp folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { createPlatform } from '../src/platform.js';
import { hashEmbed } from '../src/rag/embedding/hash-embedder.js';
import { ExactIndex } from '../src/rag/index/exact-index.js';
import { HnswIndex } from '../src/rag/index/hnsw-index.js';
import type { SearchMode } from '../src/rag/service/rag-search.js';
import { findNamespace } from '../src/rag/storage/namespace-records.js';
import { createRagWorkerPool } from '../src/rag/worker/rag-worker-pool.js';
import { makeTextPdf } from '../test/fixtures/rag/make-pdfs.js';
import { argNumber, percentile, printResult, progress, round } from './_harness.js';
import { type PreparedNamespace, prepareNamespace, writeNamespace } from './_rag-bulk-load.js';
import { loadTextCorpus } from './_rag-corpus.js';

const TENANTS = argNumber('tenants', 200);
const CHUNKS = argNumber('chunks', 2000);
const QUERIES = argNumber('queries', 300);
const COLD = argNumber('cold', 200);
const COLD_STAGE_SAMPLES = argNumber('cold-stage-samples', 100);
const INGEST_TENANTS = Math.min(TENANTS, argNumber('ingest-tenants', 2));
const WARM_TENANTS = Math.min(TENANTS, argNumber('warm-tenants', 20));
const CACHE_MB = argNumber('cache-mb', 512);
const PARAGRAPHS_PER_DOC = 100;
const DIM = 384;
const TARGETS = { warmHybridP99Ms: 15, coldP99Ms: 60, recallAt10: 0.95 };

/** p50/p99 of a list of milliseconds. */
function latency(times: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1] ?? Number.NaN) };
}

/** Garbage-collection pauses (start, duration), matched to query windows afterwards (entries arrive late). */
const gcPauses: Array<{ start: number; duration: number }> = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push({ start: e.startTime, duration: e.duration });
});
gcObserver.observe({ entryTypes: ['gc'] });
/** GC pauses inside query windows: how many, how long, and how many of the slowest 1 % of queries had one. */
async function gcDuring(windows: Array<{ start: number; end: number }>): Promise<{ pauses: number; totalMs: number; maxMs: number; slowestWithGc: string }> {
  await new Promise((resolve) => setImmediate(resolve));
  const inside = (w: { start: number; end: number }) => gcPauses.filter((g) => g.start < w.end && g.start + g.duration > w.start);
  const hits = windows.flatMap(inside);
  const slowest = [...windows].sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, Math.max(1, Math.ceil(windows.length / 100)));
  return {
    pauses: hits.length,
    totalMs: round(hits.reduce((a, g) => a + g.duration, 0), 1),
    maxMs: round(Math.max(0, ...hits.map((g) => g.duration)), 1),
    slowestWithGc: `${slowest.filter((w) => inside(w).length > 0).length}/${slowest.length}`,
  };
}

progress('collecting sentences from Markdown in node_modules');
const corpus = loadTextCorpus(42);
/** A tenant's documents: lists of paragraphs, PARAGRAPHS_PER_DOC each. */
const documentsOf = (chunks: number): string[][] =>
  Array.from({ length: Math.ceil(chunks / PARAGRAPHS_PER_DOC) }, (_, d) => Array.from({ length: Math.min(PARAGRAPHS_PER_DOC, chunks - d * PARAGRAPHS_PER_DOC) }, corpus.paragraph));

const dataDir = mkdtempSync(join(tmpdir(), 'tenantml-bench-rag-'));
const config = loadConfig({
  TENANTML_DATA_DIR: dataDir,
  TENANTML_ADMIN_KEY: 'bench-admin-key-0123456789',
  LOG_LEVEL: 'warn',
  TENANTML_INDEX_CACHE_BYTES: `${CACHE_MB}MB`,
  TENANTML_RAG_SYNC_INGEST_MAX: '64MB',
  ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
});
const database = config.databaseUrl ? 'postgresql' : 'pglite';
const platform = await createPlatform(config);
const rag = platform.rag.service;
const embedPool = createRagWorkerPool();
const tenantIds: string[] = [];
try {
  progress(`${corpus.sentences} sentences; database: ${database}; ${TENANTS} tenants × ${CHUNKS} chunks`);
  const runId = Date.now().toString(36);
  for (let i = 0; i < TENANTS; i++) tenantIds.push((await platform.tenants.create({ id: `bench-${runId}-${i}`, name: `bench ${i}` })).tenant.id);

  // Ingestion through the real path, two tenants at a time (the worker pool has two threads).
  let chunksIngested = 0;
  let bytesIngested = 0;
  const t0 = performance.now();
  await Promise.all(
    tenantIds.slice(0, INGEST_TENANTS).map(async (tenantId) => {
      await rag.createNamespace(tenantId, 'docs');
      for (const [d, paragraphs] of documentsOf(CHUNKS).entries()) {
        const text = paragraphs.join('\n\n');
        const out = await rag.upload(tenantId, 'docs', { id: `doc-${d}`, bytes: Buffer.from(text), format: 'text', metadata: { d } });
        if (out.kind !== 'stored') throw new Error('unexpected job');
        chunksIngested += out.result.chunks.length;
        bytesIngested += text.length;
      }
    }),
  );
  const ingestSeconds = (performance.now() - t0) / 1000;
  progress(`real-path ingestion: ${chunksIngested} chunks in ${round(ingestSeconds, 1)} s`);

  // PDF ingestion: pages per second of generated 40-page PDFs, through the worker pool.
  const pdfTenant = tenantIds[0]!;
  await rag.createNamespace(pdfTenant, 'pdfs');
  const pdfs = await Promise.all(
    Array.from({ length: 5 }, () =>
      makeTextPdf(Array.from({ length: 40 }, () => ({ heading: corpus.asciiSentence().slice(0, 40), lines: Array.from({ length: 30 }, () => corpus.asciiSentence().slice(0, 95)) }))),
    ),
  );
  const p0 = performance.now();
  let pages = 0;
  let pdfChunks = 0;
  for (const [i, bytes] of pdfs.entries()) {
    const out = await rag.upload(pdfTenant, 'pdfs', { id: `pdf-${i}`, bytes, contentType: 'application/pdf' });
    if (out.kind === 'stored') {
      pages += out.result.document.pageCount;
      pdfChunks += out.result.chunks.length;
    }
  }
  const pdfSeconds = (performance.now() - p0) / 1000;

  // Bulk setup of the other tenants: embedding the next tenant (worker threads) overlaps writing this one.
  const b0 = performance.now();
  const bulkTenants = tenantIds.slice(INGEST_TENANTS);
  let next: Promise<PreparedNamespace> | undefined = bulkTenants.length > 0 ? prepareNamespace(embedPool, DIM, documentsOf(CHUNKS)) : undefined;
  let bulkChunks = 0;
  for (const [i, tenantId] of bulkTenants.entries()) {
    const prepared = await next!;
    next = i + 1 < bulkTenants.length ? prepareNamespace(embedPool, DIM, documentsOf(CHUNKS)) : undefined;
    await writeNamespace(platform.db, rag, platform.rag.indexes, tenantId, 'docs', prepared);
    bulkChunks += prepared.chunks;
    if (i % 20 === 19) progress(`bulk: ${i + 1}/${bulkTenants.length} tenants (${Math.round(bulkChunks / ((performance.now() - b0) / 1000))} chunks/s)`);
  }

  await platform.rag.indexes.flush();
  const bulkSeconds = (performance.now() - b0) / 1000;
  progress(`bulk setup ${round(bulkSeconds, 1)} s`);
  // A server vacuums, analyses and checkpoints a table that just took 400,000 rows within seconds: done here first, so
  // the query phases measure queries rather than race that maintenance for two cores. PGlite never does it by itself
  // (no background processes), so without this its planner would run the query phases without statistics.
  const v0 = performance.now();
  await platform.db.maintain();
  progress(`vacuum analyze + checkpoint ${round((performance.now() - v0) / 1000, 1)} s`);

  // Warm queries: a hot set of tenants whose indexes are resident.
  const warmSet = tenantIds.slice(0, WARM_TENANTS);
  for (const t of warmSet) await rag.search.search(t, 'docs', { query: 'warm up', topK: 10, mode: 'hybrid' });
  const warm: Record<string, ReturnType<typeof latency>> = {};
  const warmGc: Record<string, Awaited<ReturnType<typeof gcDuring>>> = {};
  for (const mode of ['hybrid', 'vector', 'lexical'] as SearchMode[]) {
    const windows: Array<{ start: number; end: number }> = [];
    for (let i = 0; i < QUERIES + 20; i++) {
      const tenant = warmSet[i % warmSet.length]!;
      const q = corpus.question();
      const start = performance.now();
      await rag.search.search(tenant, 'docs', { query: q, topK: 10, mode });
      if (i >= 20) windows.push({ start, end: performance.now() });
    }
    warm[mode] = latency(windows.map((w) => w.end - w.start));
    warmGc[mode] = await gcDuring(windows);
    progress(`warm ${mode}: ${JSON.stringify(warm[mode])} gc ${JSON.stringify(warmGc[mode])}`);
  }

  // Cold: the tenant's index is evicted, so the query loads it from the artifact store.
  const coldWindows: Array<{ start: number; end: number }> = [];
  for (let i = 0; i < COLD; i++) {
    const tenant = tenantIds[Math.floor(Math.random() * tenantIds.length)]!;
    platform.rag.indexes.evictTenant(tenant);
    const start = performance.now();
    await rag.search.search(tenant, 'docs', { query: corpus.question(), topK: 10, mode: 'hybrid' });
    coldWindows.push({ start, end: performance.now() });
  }
  const cold = latency(coldWindows.map((w) => w.end - w.start));
  const coldGc = await gcDuring(coldWindows);
  progress(`cold: ${JSON.stringify(cold)} gc ${JSON.stringify(coldGc)}`);

  // Where a cold query's time goes, on separate evictions (not part of the figures above): loading the
  // namespace's indexes from the artifact store, then the same query against the now-resident indexes.
  const loadTimes: number[] = [];
  const afterLoadTimes: number[] = [];
  for (let i = 0; i < COLD_STAGE_SAMPLES; i++) {
    const tenant = tenantIds[Math.floor(Math.random() * tenantIds.length)]!;
    const ns = await platform.db.withTenant(tenant, (tx) => findNamespace(tx, 'docs'));
    platform.rag.indexes.evictTenant(tenant);
    const t0 = performance.now();
    (await platform.rag.indexes.acquireSet(tenant, ns)).release();
    const t1 = performance.now();
    await rag.search.search(tenant, 'docs', { query: corpus.question(), topK: 10, mode: 'hybrid' });
    loadTimes.push(t1 - t0);
    afterLoadTimes.push(performance.now() - t1);
  }
  const coldStages = { samples: COLD_STAGE_SAMPLES, loadIndexes: latency(loadTimes), queryOnceResident: latency(afterLoadTimes) };
  progress(`cold stages: ${JSON.stringify(coldStages)}`);

  // Recall@10 of HNSW vs exact on the stored embeddings of real text.
  const recallAt = async (tenants: string[]) => {
    const vectors: Float32Array[] = [];
    for (const t of tenants) {
      const rows = await platform.db.withTenant(t, (tx) => tx.query<{ embedding: Uint8Array }>("select c.embedding from rag_chunks c join rag_namespaces n on n.id = c.namespace_id where n.name = 'docs'"));
      for (const r of rows.rows) vectors.push(new Float32Array(new Uint8Array(r.embedding).buffer));
    }
    const ids = Float64Array.from({ length: vectors.length }, (_, i) => i);
    const flat = new Float32Array(vectors.length * DIM);
    vectors.forEach((v, i) => {
      flat.set(v, i * DIM);
    });
    const exact = ExactIndex.fromArrays(DIM, 1, ids, flat);
    const hnsw = HnswIndex.build(DIM, 1, ids, flat);
    let found = 0;
    const n = 300;
    for (let i = 0; i < n; i++) {
      const q = hashEmbed(corpus.question(), DIM);
      const truth = new Set(exact.search(q, 10).map((h) => h.id));
      for (const h of hnsw.search(q, 10)) if (truth.has(h.id)) found++;
    }
    return { vectors: vectors.length, queries: n, recallAt10: round(found / (n * 10), 4) };
  };
  const recallOne = await recallAt(tenantIds.slice(0, 1));
  const recallTen = await recallAt(tenantIds.slice(0, Math.min(10, tenantIds.length)));

  const met = {
    warmHybridP99: warm.hybrid!.p99 <= TARGETS.warmHybridP99Ms,
    coldP99: cold.p99 <= TARGETS.coldP99Ms,
    recallAt10: Math.min(recallOne.recallAt10, recallTen.recallAt10) >= TARGETS.recallAt10,
  };
  const cache = platform.rag.indexes.stats();
  const bufferPool = platform.rag.indexes.bufferPoolStats();
  printResult({
    benchmark: 'rag',
    setup: {
      database,
      tenants: TENANTS,
      chunksPerTenant: CHUNKS,
      chunksTotal: chunksIngested + bulkChunks,
      embedder: 'hash-v1-384 (signed feature hashing; no model weights)',
      dimension: DIM,
      indexKind: CHUNKS >= 4096 ? 'hnsw' : 'exact (below HNSW_THRESHOLD)',
      machine: { cpus: cpus().length, loadAverage1m: round(loadavg()[0] ?? 0, 2) },
      indexCacheBudgetMB: CACHE_MB,
      indexCacheResidentMB: round(cache.residentBytes / 2 ** 20, 1),
      indexCacheEntries: cache.entries,
      indexBufferPool: { reused: bufferPool.reused, allocated: bufferPool.allocated },
      realPathTenants: INGEST_TENANTS,
      bulkTenants: bulkTenants.length,
      bulkSeconds: round(bulkSeconds, 1),
      bulkChunksPerSecond: round(bulkChunks / bulkSeconds, 0),
      note: 'ingestion figures come from the real upload path on the first realPathTenants tenants and the PDFs; the other tenants are written in bulk (one transaction per tenant under withTenant) and are not ingestion figures',
    },
    ingestion: {
      path: 'RagService.upload: parse (worker) → chunk → embed → one transaction → index update',
      tenants: INGEST_TENANTS,
      chunks: chunksIngested,
      seconds: round(ingestSeconds, 1),
      chunksPerSecond: round(chunksIngested / ingestSeconds, 0),
      megabytesPerSecond: round(bytesIngested / 1e6 / ingestSeconds, 2),
      pdfPages: pages,
      pdfChunks,
      pdfPagesPerSecond: round(pages / pdfSeconds, 1),
    },
    warmMs: { ...warm, tenants: warmSet.length, queriesPerMode: QUERIES, gc: warmGc },
    coldMs: { ...cold, queries: COLD, mode: 'hybrid', gc: coldGc, stages: coldStages },
    recall: { oneNamespace: recallOne, tenNamespacesPooled: recallTen },
    targets: { ...TARGETS, met },
  });
} finally {
  gcObserver.disconnect();
  for (const t of tenantIds) await platform.purge.purge(t).catch(() => undefined);
  await embedPool.close();
  await platform.close();
  rmSync(dataDir, { recursive: true, force: true });
}
