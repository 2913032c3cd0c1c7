/**
 * Replays synthetic multi-tenant traffic through the real ModelCache under
 * each eviction policy and prints hit rates as one JSON object.
 * 500 models (one per tenant), Zipf(1.1) popularity, budget = 10% of bytes.
 * Scenarios: equal sizes; mixed sizes with size-proportional load cost; the
 * Zipf traffic interleaved with a batch tenant sweeping 300 cold models (the
 * thrashing case); and a popularity shift half-way (does the policy adapt?).
 * Loads are instant; each reports its modelled cost, so only policy decisions
 * are measured. LRU is the baseline.
 * Knobs: BENCH_REQUESTS (default 200000); GDSF_WINDOW and GDSF_MAXF override
 * the frequency history's window and saturation, to explore the policy.
 */
import type { PolicyName } from '../src/serving/cache-policy.js';
import { ModelCache, type ModelKey } from '../src/serving/model-cache.js';
import { mulberry32 } from '../test/support/seeded-random.js';

const MODELS = 500;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200_000);
const WARMUP = Math.floor(REQUESTS / 10);
const ZIPF_S = 1.1;

const rng = mulberry32;

function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cdf[i] = total += 1 / (i + 1) ** s;
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function shuffled(n: number, random: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a;
}

interface Scenario {
  name: string;
  sizes: number[];
  trace: number[];
}

function buildScenarios(): Scenario[] {
  const random = rng(42);
  const zipf = zipfSampler(MODELS, ZIPF_S, random);
  const rankToModel = shuffled(MODELS, random);
  const laterRanks = shuffled(MODELS, random);
  const equal = Array.from({ length: MODELS }, () => 100_000);
  // Log-uniform 25 KB .. 400 KB.
  const mixed = Array.from({ length: MODELS }, () => Math.round(25_000 * 16 ** random()));
  const zipfTrace = Array.from({ length: REQUESTS }, () => rankToModel[zipf()] as number);
  let sweep = 0;
  const scanTrace = Array.from({ length: REQUESTS }, () => {
    if (random() < 0.3) return MODELS + (sweep++ % 300); // the batch tenant's models
    return rankToModel[zipf()] as number;
  });
  const shiftTrace = Array.from({ length: REQUESTS }, (_, i) => (i < REQUESTS / 2 ? rankToModel : laterRanks)[zipf()] as number);
  return [
    { name: 'zipf-equal-sizes', sizes: equal, trace: zipfTrace },
    { name: 'zipf-mixed-sizes', sizes: mixed, trace: zipfTrace },
    { name: 'zipf-with-batch-sweep', sizes: [...equal, ...Array.from({ length: 300 }, () => 100_000)], trace: scanTrace },
    { name: 'zipf-popularity-shift', sizes: equal, trace: shiftTrace },
  ];
}

async function replay(scenario: Scenario, policy: PolicyName) {
  const budget = Math.floor(scenario.sizes.slice(0, MODELS).reduce((a, b) => a + b, 0) / 10);
  const keys: ModelKey[] = scenario.sizes.map((_, i) => ({ tenantId: `t${i}`, model: 'm', version: '1' }));
  let loads = 0;
  let costMs = 0;
  const cache = new ModelCache<number>({
    budgetBytes: budget,
    policy,
    policyOptions: process.env.GDSF_WINDOW ? { historyWindow: Number(process.env.GDSF_WINDOW), maxFrequency: Number(process.env.GDSF_MAXF) } : {},
    load: async (key) => {
      const size = scenario.sizes[Number(key.tenantId.slice(1))] as number;
      const loadCostMs = 0.5 + size / 50_000; // ~50 MB/s fetch + parse, plus a fixed round trip
      return { value: size, sizeBytes: size, loadCostMs };
    },
    onEvent: (e) => {
      if (e.type === 'load') {
        loads++;
        costMs += 0.5 + e.sizeBytes / 50_000;
      }
    },
  });
  let hits = 0;
  let measured = 0;
  let byteHits = 0;
  let bytes = 0;
  let measuredLoads = 0;
  let measuredCost = 0;
  for (let i = 0; i < scenario.trace.length; i++) {
    const model = scenario.trace[i] as number;
    const key = keys[model] as ModelKey;
    const hit = cache.has(key);
    if (i === WARMUP) {
      measuredLoads = loads;
      measuredCost = costMs;
    }
    if (i >= WARMUP) {
      measured++;
      const size = scenario.sizes[model] as number;
      bytes += size;
      if (hit) {
        hits++;
        byteHits += size;
      }
    }
    await cache.use(key, (v) => v);
  }
  return {
    hitRate: Number((hits / measured).toFixed(4)),
    byteHitRate: Number((byteHits / bytes).toFixed(4)),
    loads: loads - measuredLoads,
    loadCostMs: Math.round(costMs - measuredCost),
  };
}

const started = performance.now();
const results: Record<string, Record<PolicyName, Awaited<ReturnType<typeof replay>>> & { hitRateGain: number }> = {};
for (const scenario of buildScenarios()) {
  process.stderr.write(`scenario ${scenario.name}...\n`);
  const lru = await replay(scenario, 'lru');
  const gdsf = await replay(scenario, 'gdsf');
  results[scenario.name] = { lru, gdsf, hitRateGain: Number((gdsf.hitRate - lru.hitRate).toFixed(4)) };
}
const wins = Object.values(results).filter((r) => r.gdsf.hitRate >= r.lru.hitRate && r.gdsf.loadCostMs <= r.lru.loadCostMs).length;
console.log(
  JSON.stringify({
    benchmark: 'model-cache-policy',
    models: MODELS,
    zipfS: ZIPF_S,
    budget: '10% of model bytes',
    requests: REQUESTS,
    warmupRequests: WARMUP,
    baseline: 'lru',
    scenarios: results,
    gdsfWinsOrTies: `${wins}/${Object.keys(results).length}`,
    chosen: wins >= Object.keys(results).length / 2 ? 'gdsf' : 'lru',
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  }),
);
