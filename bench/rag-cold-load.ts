/**
 * The cold path of one namespace, stage by stage, without a database: a
 * namespace of C chunks (real text, hash embeddings) is persisted as the
 * service persists it (sealed artifact files in a folder), then loaded R
 * times. Also holds N loaded indexes resident and times a full GC over them,
 * which is what a cold query pays when one lands on it.
 *
 *   npm run bench -- rag-cold-load [--chunks 2000] [--rounds 50] [--resident 80]
 * Run node with --expose-gc for the GC figures (tsx passes NODE_OPTIONS).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { hashEmbed } from '../src/rag/embedding/hash-embedder.js';
import { ExactIndex } from '../src/rag/index/exact-index.js';
import { loadVectorIndex } from '../src/rag/index/create-vector-index.js';
import { LexicalIndex } from '../src/rag/search/lexical-index.js';
import { openArtifact } from '../src/storage/artifact-seal.js';
import { createArtifactStore } from '../src/storage/artifact-store.js';
import { argNumber, percentile, printResult, progress, round } from './_harness.js';
import { loadTextCorpus } from './_rag-corpus.js';

const CHUNKS = argNumber('chunks', 2000);
const ROUNDS = argNumber('rounds', 50);
const RESIDENT = argNumber('resident', 80);
const DIM = 384;

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)) };
};
const gc = (globalThis as { gc?: () => void }).gc;

const corpus = loadTextCorpus(42);
const texts = Array.from({ length: CHUNKS }, corpus.paragraph);
const labels = texts.map((_, i) => 1000 + i);
const vectors = new Float32Array(CHUNKS * DIM);
texts.forEach((t, i) => {
  vectors.set(hashEmbed(t, DIM), i * DIM);
});
const dir = mkdtempSync(join(tmpdir(), 'tenantml-bench-coldload-'));
try {
  const store = createArtifactStore({ kind: 'folder', dir });
  const b0 = performance.now();
  const lexical = LexicalIndex.build(1, labels, texts);
  const buildMs = performance.now() - b0;
  const exact = ExactIndex.fromArrays(DIM, 1, Float64Array.from(labels), vectors);
  await store.put('v', exact.serialize());
  await store.put('l', lexical.serialize());
  const stages: Record<string, number[]> = { readVector: [], sha256Vector: [], decodeVector: [], readLexical: [], sha256Lexical: [], decodeLexical: [], total: [] };
  const raw = store.getSealed!;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    const [sv, sl] = await Promise.all([raw('v'), raw('l')]);
    const t1 = performance.now();
    const pv = openArtifact(sv!);
    const t2 = performance.now();
    loadVectorIndex(pv);
    const t3 = performance.now();
    const pl = openArtifact(sl!);
    const t4 = performance.now();
    LexicalIndex.load(pl);
    const t5 = performance.now();
    stages.readVector!.push(t1 - t0);
    stages.readLexical!.push(t1 - t0);
    stages.sha256Vector!.push(t2 - t1);
    stages.decodeVector!.push(t3 - t2);
    stages.sha256Lexical!.push(t4 - t3);
    stages.decodeLexical!.push(t5 - t4);
    stages.total!.push(t5 - t0);
  }
  const sizes = { vectorBytes: (await raw('v'))!.length, lexicalBytes: (await raw('l'))!.length, lexicalSizeBytesEstimate: lexical.sizeBytes };
  const lexBytes = (await store.get('l'))!;
  const searchTimes: number[] = [];
  for (let i = 0; i < 300; i++) {
    const q = corpus.question();
    const t0 = performance.now();
    lexical.search(q, 20);
    searchTimes.push(performance.now() - t0);
  }

  // Resident set: heap growth per loaded lexical index and a full GC over all of them.
  let residentFigures: Record<string, number> = {};
  if (gc) {
    const timeFullGc = () => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        gc();
        times.push(performance.now() - t0);
      }
      return stats(times).p50;
    };
    const fullGcMsWithout = timeFullGc();
    const before = getHeapStatistics().used_heap_size;
    const held: LexicalIndex[] = [];
    for (let i = 0; i < RESIDENT; i++) held.push(LexicalIndex.load(lexBytes.slice()));
    gc();
    const after = getHeapStatistics().used_heap_size;
    residentFigures = { heapBytesPerIndex: Math.round((after - before) / RESIDENT), fullGcMsWithout, fullGcMsWithResident: timeFullGc(), resident: held.length };
  } else progress('run with NODE_OPTIONS=--expose-gc for the resident-set figures');

  printResult({
    benchmark: 'rag-cold-load',
    chunks: CHUNKS,
    rounds: ROUNDS,
    sizes,
    lexicalBuildMs: round(buildMs, 1),
    stagesMs: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, stats(v)])),
    lexicalSearchMs: stats(searchTimes),
    ...residentFigures,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
