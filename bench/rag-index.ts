/**
 * Exact scan vs HNSW (usearch) at growing index sizes, on hash embeddings of
 * real English text (the Markdown shipped in node_modules, re-mixed into
 * passages), 384 dimensions. Measures per-query latency (median, p99), build
 * time and recall@10 of HNSW against the exact answer; reports the smallest
 * size at which HNSW's median beats the exact scan, and the size at which the
 * exact scan's median passes EXACT_BUDGET_MS: the HNSW threshold (see README).
 *
 *   npm run bench -- rag-index [--sizes 1000,2000,...] [--queries 300]
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { hashEmbed } from '../src/rag/embedding/hash-embedder.js';
import { ExactIndex } from '../src/rag/index/exact-index.js';
import { HnswIndex } from '../src/rag/index/hnsw-index.js';
import { splitSentences } from '../src/rag/text/sentences.js';
import { mulberry32 } from '../test/support/seeded-random.js';
import { markdownFiles } from './_rag-corpus.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const sizes = arg('sizes', '250,500,1000,2000,4000,6000,8000,16000,32000').split(',').map(Number);
const queryCount = Number(arg('queries', '300'));
const dimension = 384;
/** Exact scans cheaper than this per query are negligible next to the 15 ms hybrid budget. */
const EXACT_BUDGET_MS = 1;
const log = (msg: string) => process.stderr.write(`${msg}\n`);

const rng = mulberry32;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

log('collecting sentences from Markdown in node_modules');
const sentences: string[] = [];
for (const file of markdownFiles('node_modules', [])) {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, ' ').replace(/[#>*`|[\]()_-]+/g, ' ');
  for (const s of splitSentences(text.replace(/\s+/g, ' '))) if (s.length >= 40 && s.length <= 400 && /[a-z]{3}/.test(s)) sentences.push(s);
}
const unique = [...new Set(sentences)];
log(`${unique.length} distinct sentences`);
const random = rng(42);
const pick = () => unique[Math.floor(random() * unique.length)]!;
const maxSize = Math.max(...sizes);
log(`embedding ${maxSize} passages and ${queryCount} queries`);
const t0 = performance.now();
const passages: Float32Array[] = [];
for (let i = 0; i < maxSize; i++) passages.push(hashEmbed(`${pick()} ${pick()} ${pick()}`, dimension));
const embedMsPerPassage = (performance.now() - t0) / maxSize;
// Queries: a sentence with a third of its words dropped, like a loose paraphrase.
const queries: Float32Array[] = [];
for (let i = 0; i < queryCount; i++) queries.push(hashEmbed(pick().split(' ').filter(() => random() > 0.33).join(' '), dimension));

const results: Array<Record<string, number>> = [];
for (const size of sizes) {
  const ids = Float64Array.from({ length: size }, (_, i) => i);
  const flat = new Float32Array(size * dimension);
  for (let i = 0; i < size; i++) flat.set(passages[i]!, i * dimension);
  const exact = ExactIndex.fromArrays(dimension, 1, ids, flat);
  const b0 = performance.now();
  const hnsw = HnswIndex.build(dimension, 1, ids, flat);
  const buildMs = performance.now() - b0;
  const timeQueries = (index: ExactIndex | HnswIndex) => {
    for (let i = 0; i < 20; i++) index.search(queries[i]!, 10); // warm up
    const times: number[] = [];
    for (const q of queries) {
      const s = performance.now();
      index.search(q, 10);
      times.push(performance.now() - s);
    }
    return times;
  };
  const exactTimes = timeQueries(exact);
  const hnswTimes = timeQueries(hnsw);
  let found = 0;
  for (const q of queries) {
    const truth = new Set(exact.search(q, 10).map((h) => h.id));
    for (const h of hnsw.search(q, 10)) if (truth.has(h.id)) found++;
  }
  const s0 = performance.now();
  const bytes = hnsw.serialize();
  const serializeMs = performance.now() - s0;
  const l0 = performance.now();
  HnswIndex.load(bytes);
  const loadMs = performance.now() - l0;
  const e0 = performance.now();
  ExactIndex.load(exact.serialize());
  const exactLoadMs = performance.now() - e0;
  const row = {
    size,
    exactMedianMs: round(percentile(exactTimes, 50)),
    exactP99Ms: round(percentile(exactTimes, 99)),
    hnswMedianMs: round(percentile(hnswTimes, 50)),
    hnswP99Ms: round(percentile(hnswTimes, 99)),
    speedupMedian: round(percentile(exactTimes, 50) / percentile(hnswTimes, 50)),
    recallAt10: round(found / (queries.length * 10)),
    hnswBuildMs: Math.round(buildMs),
    hnswSerializeMs: round(serializeMs),
    hnswLoadMs: round(loadMs),
    exactLoadMs: round(exactLoadMs),
    hnswBytes: hnsw.sizeBytes,
    exactBytes: exact.sizeBytes,
  };
  log(JSON.stringify(row));
  results.push(row);
}

const firstFaster = results.find((r) => r.hnswMedianMs! < r.exactMedianMs!);
// Interpolate the size where the exact median crosses the budget (scan cost is linear in size).
let exactWithinBudgetUpTo: number | null = null;
for (let i = 1; i < results.length; i++) {
  const a = results[i - 1]!;
  const b = results[i]!;
  if (a.exactMedianMs! <= EXACT_BUDGET_MS && b.exactMedianMs! > EXACT_BUDGET_MS) {
    const f = (EXACT_BUDGET_MS - a.exactMedianMs!) / (b.exactMedianMs! - a.exactMedianMs!);
    exactWithinBudgetUpTo = Math.round(a.size! + f * (b.size! - a.size!));
  }
}
process.stdout.write(
  `${JSON.stringify({
    bench: 'rag-index',
    dimension,
    queries: queryCount,
    corpusSentences: unique.length,
    hashEmbedMsPerPassage: round(embedMsPerPassage),
    baseline: 'exact scan (ExactIndex) on the same vectors and queries',
    hnswFasterFromSize: firstFaster?.size ?? null,
    exactBudgetMs: EXACT_BUDGET_MS,
    exactWithinBudgetUpTo,
    results,
  })}\n`,
);

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
