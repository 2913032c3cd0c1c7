/**
 * RAG end to end through the service layer: T tenants × C chunks of real
 * English text (Markdown found in node_modules, re-mixed into paragraphs),
 * hash embeddings, 384 dimensions.
 *
 * Reports: ingestion (chunks/s for text; pages/s for generated PDFs), warm
 * query latency per mode (index resident), cold latency (the tenant's index
 * evicted, so the query loads it from the artifact store), and recall@10 of
 * HNSW against the exact scan on the same embeddings, at one namespace
 * (C vectors) and at 10 namespaces pooled (10·C vectors).
 *
 *   npm run bench -- rag [--tenants 200] [--chunks 2000] [--queries 300] [--cold 100]
 * Uses PostgreSQL when DATABASE_URL is set, otherwise PGlite in a temp folder.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { createPlatform } from '../src/platform.js';
import { hashEmbed } from '../src/rag/embedding/hash-embedder.js';
import { ExactIndex } from '../src/rag/index/exact-index.js';
import { HnswIndex } from '../src/rag/index/hnsw-index.js';
import type { SearchMode } from '../src/rag/service/rag-search.js';
import { splitSentences } from '../src/rag/text/sentences.js';
import { makeTextPdf } from '../test/fixtures/rag/make-pdfs.js';
import { argNumber, percentile, printResult, progress, round } from './_harness.js';

const TENANTS = argNumber('tenants', 200);
const CHUNKS = argNumber('chunks', 2000);
const QUERIES = argNumber('queries', 300);
const COLD = argNumber('cold', 100);
const WARM_TENANTS = Math.min(TENANTS, 20);
const PARAGRAPHS_PER_DOC = 100;
const DIM = 384;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function markdownFiles(dir: string, out: string[], depth = 0): string[] {
  if (depth > 6) return out;
  let entries: string[] = [];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    try {
      const st = statSync(p);
      if (st.isDirectory()) markdownFiles(p, out, depth + 1);
      else if (name.toLowerCase().endsWith('.md') && st.size > 2000) out.push(p);
    } catch {
      // unreadable entries are skipped
    }
  }
  return out;
}

progress('collecting sentences from Markdown in node_modules');
const sentences = new Set<string>();
for (const file of markdownFiles('node_modules', [])) {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, ' ').replace(/[#>*`|[\]()_-]+/g, ' ');
  for (const s of splitSentences(text.replace(/\s+/g, ' '))) if (s.length >= 40 && s.length <= 300 && /[a-z]{3}/.test(s)) sentences.add(s);
}
const pool = [...sentences];
const random = rng(42);
const pick = () => pool[Math.floor(random() * pool.length)]!;
/** A paragraph of 600–900 characters: one chunk at the default 1,000-character target. */
function paragraph(): string {
  let p = pick();
  while (p.length < 600) {
    const next = pick();
    if (p.length + next.length > 900) break;
    p += ` ${next}`;
  }
  return p;
}
/** A question: a sentence with a third of its words dropped. */
const question = () => pick().split(' ').filter(() => random() > 0.33).join(' ') || pick();

const dataDir = mkdtempSync(join(tmpdir(), 'tenantml-bench-rag-'));
const config = loadConfig({
  TENANTML_DATA_DIR: dataDir,
  TENANTML_ADMIN_KEY: 'bench-admin-key-0123456789',
  LOG_LEVEL: 'warn',
  TENANTML_INDEX_CACHE_BYTES: '1GB',
  TENANTML_RAG_SYNC_INGEST_MAX: '64MB',
  ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
});
const platform = await createPlatform(config);
const rag = platform.rag.service;
const tenantIds: string[] = [];
try {
  progress(`${pool.length} sentences; database: ${config.databaseUrl ? 'PostgreSQL' : 'PGlite'}; ${TENANTS} tenants × ${CHUNKS} chunks`);
  const runId = Date.now().toString(36);
  for (let i = 0; i < TENANTS; i++) tenantIds.push((await platform.tenants.create({ id: `bench-${runId}-${i}`, name: `bench ${i}` })).tenant.id);

  // Ingestion: two tenants at a time (the worker pool has two threads).
  let chunksStored = 0;
  let bytesIngested = 0;
  const t0 = performance.now();
  const ingestTenant = async (tenantId: string) => {
    await rag.createNamespace(tenantId, 'docs');
    let stored = 0;
    for (let d = 0; stored < CHUNKS; d++) {
      const n = Math.min(PARAGRAPHS_PER_DOC, CHUNKS - stored);
      const text = Array.from({ length: n }, paragraph).join('\n\n');
      const out = await rag.upload(tenantId, 'docs', { id: `doc-${d}`, bytes: Buffer.from(text), format: 'text', metadata: { d } });
      if (out.kind !== 'stored') throw new Error('unexpected job');
      stored += out.result.chunks.length;
      bytesIngested += text.length;
    }
    chunksStored += stored;
  };
  for (let i = 0; i < tenantIds.length; i += 2) {
    await Promise.all(tenantIds.slice(i, i + 2).map(ingestTenant));
    if (i % 20 === 0) progress(`ingested ${i + 2}/${TENANTS} tenants (${Math.round(chunksStored / ((performance.now() - t0) / 1000))} chunks/s)`);
  }
  const ingestSeconds = (performance.now() - t0) / 1000;
  await platform.rag.indexes.flush();

  // PDF ingestion: pages per second of generated 40-page PDFs, through the worker pool.
  const pdfTenant = tenantIds[0]!;
  await rag.createNamespace(pdfTenant, 'pdfs');
  const ascii = () => pick().replace(/[^\x20-\x7e]/g, ''); // the standard PDF fonts encode WinAnsi only
  const pdfs = await Promise.all(Array.from({ length: 5 }, () => makeTextPdf(Array.from({ length: 40 }, () => ({ heading: ascii().slice(0, 40), lines: Array.from({ length: 30 }, () => ascii().slice(0, 95)) })))));
  const p0 = performance.now();
  let pages = 0;
  for (const [i, bytes] of pdfs.entries()) {
    const out = await rag.upload(pdfTenant, 'pdfs', { id: `pdf-${i}`, bytes, contentType: 'application/pdf' });
    if (out.kind === 'stored') pages += out.result.document.pageCount;
  }
  const pdfSeconds = (performance.now() - p0) / 1000;

  // Warm queries: a hot set of tenants whose indexes are resident.
  const warmSet = tenantIds.slice(0, WARM_TENANTS);
  for (const t of warmSet) await rag.search.search(t, 'docs', { query: 'warm up', topK: 10, mode: 'vector' });
  const warm: Record<string, { p50: number; p99: number }> = {};
  for (const mode of ['hybrid', 'vector', 'lexical'] as SearchMode[]) {
    const times: number[] = [];
    for (let i = 0; i < QUERIES + 20; i++) {
      const tenant = warmSet[i % warmSet.length]!;
      const q = question();
      const s = performance.now();
      await rag.search.search(tenant, 'docs', { query: q, topK: 10, mode });
      if (i >= 20) times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    warm[mode] = { p50: round(percentile(times, 50)), p99: round(percentile(times, 99)) };
    progress(`warm ${mode}: ${JSON.stringify(warm[mode])}`);
  }

  // Cold: the tenant's index is evicted, so the query loads it from the artifact store.
  const coldTimes: number[] = [];
  for (let i = 0; i < COLD; i++) {
    const tenant = tenantIds[Math.floor(random() * tenantIds.length)]!;
    platform.rag.indexes.evictTenant(tenant);
    const s = performance.now();
    await rag.search.search(tenant, 'docs', { query: question(), topK: 10, mode: 'hybrid' });
    coldTimes.push(performance.now() - s);
  }
  coldTimes.sort((a, b) => a - b);

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
      const q = hashEmbed(question(), DIM);
      const truth = new Set(exact.search(q, 10).map((h) => h.id));
      for (const h of hnsw.search(q, 10)) if (truth.has(h.id)) found++;
    }
    return { vectors: vectors.length, recallAt10: round(found / (n * 10), 4) };
  };
  const recallOne = await recallAt(tenantIds.slice(0, 1));
  const recallTen = await recallAt(tenantIds.slice(0, Math.min(10, tenantIds.length)));

  const result = {
    benchmark: 'rag',
    database: config.databaseUrl ? 'postgresql' : 'pglite',
    tenants: TENANTS,
    chunksPerTenant: Math.round(chunksStored / TENANTS),
    dimension: DIM,
    indexKind: 'exact (below HNSW_THRESHOLD)',
    ingestion: {
      chunks: chunksStored,
      seconds: round(ingestSeconds, 1),
      chunksPerSecond: round(chunksStored / ingestSeconds, 0),
      megabytesPerSecond: round(bytesIngested / 1e6 / ingestSeconds, 2),
      pdfPages: pages,
      pdfPagesPerSecond: round(pages / pdfSeconds, 1),
    },
    warmMs: { ...warm, tenants: warmSet.length, queriesPerMode: QUERIES },
    coldMs: { p50: round(percentile(coldTimes, 50)), p99: round(percentile(coldTimes, 99)), queries: COLD },
    recall: { oneNamespace: recallOne, tenNamespacesPooled: recallTen },
    targets: { warmHybridP99Ms: 15, coldP99Ms: 60, recallAt10: 0.95 },
  };
  printResult(result);
} finally {
  for (const t of tenantIds) await platform.purge.purge(t).catch(() => undefined);
  await platform.close();
  rmSync(dataDir, { recursive: true, force: true });
}
