/**
 * The boosting loop: bins the data once, then per round computes gradients,
 * samples rows and columns, grows a tree, refits leaves where the objective
 * asks for it, updates float32 margins and tracks the validation metric for
 * early stopping. Single-threaded and deterministic: the same data, params
 * and seed give the same model, bit for bit.
 */
import { errors } from '../errors.js';
import { buildBinnedMatrix } from './binning.js';
import { checkDataset, checkFeatureKinds, checkFeatureNames } from './dataset.js';
import { forestFromTrees } from './forest.js';
import { evaluateMetric } from './metrics.js';
import { baseMarginOf, computeGradients, linkOf, objectiveConfig, outputOf, validateLabels } from './objectives.js';
import { type EvalMetricName, resolveParams, type TrainParams } from './params.js';
import { createRng } from './rng.js';
import { createGrowWorkspace, type GrownTree, growTree } from './tree-grower.js';
import type { Dataset, FeatureKind, GbdtModel } from './types.js';

/** Progress after each boosting round. */
export interface RoundProgress {
  /** Rounds finished so far (1-based). */
  round: number;
  totalRounds: number;
  /** Validation metric after this round, when a validation set was given. */
  validScore?: number;
}

/** Options beyond the hyper-parameters. */
export interface TrainOptions {
  /** Held-out rows for the validation metric and early stopping. */
  validation?: Dataset;
  featureNames?: readonly string[];
  featureKinds?: readonly FeatureKind[];
  onRound?: (progress: RoundProgress) => void;
  /** Polled once per round; training throws an AbortError when it returns true. */
  isCancelled?: () => boolean;
}

/** What training measured. */
export interface TrainingMetrics {
  metric: EvalMetricName;
  /** Rounds run (before truncation to the best iteration). */
  rounds: number;
  /** Trees kept in the model. */
  numTrees: number;
  bestIteration: number;
  trainScore: number;
  validScore?: number;
  /** Validation metric per round. */
  validHistory: number[];
  trainMillis: number;
}

/** A trained model and its metrics. */
export interface TrainResult {
  model: GbdtModel;
  metrics: TrainingMetrics;
}

/** Trains a model synchronously in the calling thread. */
export function train(data: Dataset, params: TrainParams = {}, options: TrainOptions = {}): TrainResult {
  const started = performance.now();
  const p = resolveParams(params);
  const d = checkDataset(data);
  const kinds = checkFeatureKinds(options.featureKinds, d.numFeatures);
  const names = checkFeatureNames(options.featureNames, d.numFeatures);
  const cfg = objectiveConfig(p.objective, p);
  validateLabels(p.objective, d.labels);
  const v = options.validation === undefined ? null : checkDataset(options.validation, 'validation data');
  if (v !== null) {
    if (v.numFeatures !== d.numFeatures) {
      throw errors.validation(`validation data has ${v.numFeatures} features, training data has ${d.numFeatures}`);
    }
    validateLabels(p.objective, v.labels);
  }
  if (p.earlyStoppingRounds > 0 && v === null) throw errors.validation('earlyStoppingRounds needs a validation set');

  const matrix = buildBinnedMatrix(d.x, d.numRows, d.numFeatures, kinds, p.maxBin);
  const ws = createGrowWorkspace(matrix);
  const rng = createRng(p.seed);
  const link = linkOf(p.objective);
  // XGBoost 1.7 starts reg:absoluteerror from the label median; every other objective from 0.5.
  const baseScore =
    p.objective === 'reg:absoluteerror' && params.baseScore === undefined ? labelMedian(d.labels, d.weights) : p.baseScore;
  const base = baseMarginOf(p.objective, baseScore);
  const margin = new Float32Array(d.numRows).fill(base);
  const grad = new Float64Array(d.numRows);
  const hess = new Float64Array(d.numRows);
  const validMargin = v === null ? null : new Float32Array(v.numRows).fill(base);
  const validPred = v === null ? null : new Float32Array(v.numRows);
  const allowed = new Uint8Array(d.numFeatures);
  const featureOrder = Array.from({ length: d.numFeatures }, (_, i) => i);
  const colCount = Math.max(1, Math.floor(p.colsampleBytree * d.numFeatures));
  const growParams = { ...p, maxDeltaStep: cfg.maxDeltaStep };
  const trees: GrownTree[] = [];
  const validHistory: number[] = [];
  let bestIteration = 0;
  let bestScore = Number.POSITIVE_INFINITY;

  for (let round = 0; round < p.numBoostRound; round++) {
    if (options.isCancelled?.()) throw new DOMException('training was cancelled', 'AbortError');
    computeGradients(cfg, margin, d.labels, d.weights, grad, hess);
    for (let i = 0; i < d.numRows; i++) {
      ws.gh[2 * i] = grad[i]!;
      ws.gh[2 * i + 1] = hess[i]!;
    }
    sampleRows(ws.rows, d.numRows, p.subsample, rng, (count) => {
      ws.rowCount = count;
    });
    sampleColumns(allowed, featureOrder, colCount, rng);
    const tree = growTree(ws, growParams, allowed);
    if (p.objective === 'reg:absoluteerror') refitLeavesToMedian(tree, ws.rows, d.labels, margin, d.weights, p.eta);
    trees.push(tree);
    if (ws.rowCount === d.numRows) addTreeByPartition(tree, ws.rows, margin);
    else addTree(tree, d.x, d.numFeatures, margin);
    if (v !== null && validMargin !== null && validPred !== null) {
      addTree(tree, v.x, v.numFeatures, validMargin);
      for (let i = 0; i < v.numRows; i++) validPred[i] = outputOf(link, validMargin[i]!);
      const score = evaluateMetric(p.evalMetric, cfg, validPred, v.labels, v.weights);
      validHistory.push(score);
      if (score < bestScore) {
        bestScore = score;
        bestIteration = round;
      }
      options.onRound?.({ round: round + 1, totalRounds: p.numBoostRound, validScore: score });
      if (p.earlyStoppingRounds > 0 && round - bestIteration >= p.earlyStoppingRounds) break;
    } else {
      bestIteration = round;
      options.onRound?.({ round: round + 1, totalRounds: p.numBoostRound });
    }
  }

  const rounds = trees.length;
  const kept = p.earlyStoppingRounds > 0 ? trees.slice(0, bestIteration + 1) : trees;
  const model: GbdtModel = {
    objective: cfg,
    baseScore: Math.fround(baseScore),
    numFeatures: d.numFeatures,
    featureNames: names,
    featureKinds: kinds,
    forest: forestFromTrees(kept),
    ...(p.earlyStoppingRounds > 0 ? { bestIteration } : {}),
  };
  // Scores of the kept model: recompute margins when trees were dropped.
  const finalTrain = kept.length === rounds ? margin : marginsOf(kept, base, d.x, d.numRows, d.numFeatures);
  const trainScore = evaluateMetric(p.evalMetric, cfg, toOutput(link, finalTrain), d.labels, d.weights);
  const metrics: TrainingMetrics = {
    metric: p.evalMetric,
    rounds,
    numTrees: kept.length,
    bestIteration,
    trainScore,
    validHistory,
    trainMillis: performance.now() - started,
  };
  if (v !== null) metrics.validScore = validHistory[kept.length - 1]!;
  return { model, metrics };
}

function toOutput(link: ReturnType<typeof linkOf>, margin: Float32Array): Float32Array {
  const out = new Float32Array(margin.length);
  for (let i = 0; i < margin.length; i++) out[i] = outputOf(link, margin[i]!);
  return out;
}

function marginsOf(trees: GrownTree[], base: number, x: Float32Array, n: number, nf: number): Float32Array {
  const m = new Float32Array(n).fill(base);
  for (const t of trees) addTree(t, x, nf, m);
  return m;
}

/** Bernoulli row sampling (all rows when rate is 1). */
function sampleRows(rows: Uint32Array, n: number, rate: number, rng: ReturnType<typeof createRng>, setCount: (c: number) => void): void {
  let count = 0;
  for (let i = 0; i < n; i++) if (rate >= 1 || rng.next() < rate) rows[count++] = i;
  if (count === 0) rows[count++] = Math.floor(rng.next() * n);
  setCount(count);
}

/** Picks `count` features by a seeded shuffle. */
function sampleColumns(allowed: Uint8Array, order: number[], count: number, rng: ReturnType<typeof createRng>): void {
  if (count >= allowed.length) {
    allowed.fill(1);
    return;
  }
  for (let i = 0; i < order.length; i++) order[i] = i;
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  allowed.fill(0);
  for (let i = 0; i < count; i++) allowed[order[i]!] = 1;
}

/**
 * Adds one tree's leaf values using the row partition the grower left
 * behind: the binned partition equals the float walk by construction.
 */
function addTreeByPartition(t: GrownTree, rows: Uint32Array, margin: Float32Array): void {
  for (const { node, begin, end } of t.leafRanges) {
    const v = t.value[node]!;
    for (let i = begin; i < end; i++) {
      const r = rows[i]!;
      margin[r] = Math.fround(margin[r]! + v);
    }
  }
}

/** Adds one tree's leaf values to float32 margins, walking the float features as the predictor does. */
function addTree(t: GrownTree, x: Float32Array, nf: number, margin: Float32Array): void {
  const sets = new Map<number, Set<number>>();
  for (const [node, cats] of t.categories) sets.set(node, new Set(cats));
  const n = margin.length;
  for (let r = 0; r < n; r++) {
    let node = 0;
    while (t.left[node]! !== -1) {
      const v = x[r * nf + t.feature[node]!]!;
      let goLeft: boolean;
      if (Number.isNaN(v)) goLeft = t.defaultLeft[node] === 1;
      else if (t.splitType[node] === 1) goLeft = !(v >= 0 && sets.get(node)!.has(Math.trunc(v)));
      else goLeft = v < t.value[node]!;
      node = goLeft ? t.left[node]! : t.right[node]!;
    }
    margin[r] = Math.fround(margin[r]! + t.value[node]!);
  }
}

/**
 * reg:absoluteerror: leaf values become the median residual of the leaf's
 * rows (times eta), as XGBoost's adaptive leaves do.
 */
function refitLeavesToMedian(
  t: GrownTree,
  rows: Uint32Array,
  labels: Float32Array,
  margin: Float32Array,
  weights: Float32Array | null,
  eta: number,
): void {
  for (const { node, begin, end } of t.leafRanges) {
    if (end <= begin) continue;
    const res: { r: number; w: number }[] = [];
    for (let i = begin; i < end; i++) {
      const r = rows[i]!;
      res.push({ r: labels[r]! - margin[r]!, w: weights === null ? 1 : weights[r]! });
    }
    res.sort((a, b) => a.r - b.r);
    const q = weights === null ? interpolatedMedian(res.map((e) => e.r)) : weightedMedian(res);
    t.value[node] = Math.fround(Math.fround(q) * Math.fround(eta));
  }
}

function labelMedian(labels: Float32Array, weights: Float32Array | null): number {
  if (weights === null) return interpolatedMedian(Array.from(labels).sort((a, b) => a - b));
  const v = Array.from(labels, (r, i) => ({ r, w: weights[i]! })).sort((a, b) => a.r - b.r);
  return weightedMedian(v);
}

function interpolatedMedian(v: number[]): number {
  const n = v.length;
  if (n === 1) return v[0]!;
  const x = 0.5 * (n + 1);
  const k = Math.floor(x) - 1;
  const frac = x - 1 - k;
  const lo = v[Math.max(0, Math.min(n - 1, k))]!;
  const hi = v[Math.max(0, Math.min(n - 1, k + 1))]!;
  return lo + frac * (hi - lo);
}

function weightedMedian(v: { r: number; w: number }[]): number {
  let total = 0;
  for (const e of v) total += e.w;
  let acc = 0;
  for (const e of v) {
    acc += e.w;
    if (acc >= 0.5 * total) return e.r;
  }
  return v[v.length - 1]!.r;
}
