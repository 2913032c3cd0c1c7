/**
 * Grows one regression tree depth-wise over the binned matrix, like
 * XGBoost's `hist` updater: per level, build the histogram of the smaller
 * child only and derive its sibling by subtracting it from the parent; rows
 * live in one reusable index buffer, partitioned in place per node.
 */
import type { BinnedMatrix } from './binning.js';
import { emptySplit, findBestSplit, type GainParams, leafWeight } from './split-finder.js';

/** Settings for growing one tree. */
export interface GrowParams extends GainParams {
  maxDepth: number;
  eta: number;
  gamma: number;
}

/** A tree as parallel node arrays in BFS order (node 0 is the root). */
export interface GrownTree {
  left: number[];
  right: number[];
  feature: number[];
  /** Threshold at splits, eta-scaled leaf value at leaves (float32 values). */
  value: number[];
  defaultLeft: number[];
  splitType: number[];
  baseWeight: number[];
  gain: number[];
  cover: number[];
  /** Right-going category sets of categorical nodes. */
  categories: Map<number, number[]>;
  /** Leaves and their row ranges in the row buffer (for leaf refits). */
  leafRanges: { node: number; begin: number; end: number }[];
}

/** Reusable buffers for growing trees over one binned matrix. */
export interface GrowWorkspace {
  matrix: BinnedMatrix;
  /** Interleaved gradient/hessian pairs per row. */
  gh: Float64Array;
  /** Rows to train on, in [0, rowCount). */
  rows: Uint32Array;
  rowCount: number;
  scratch: Uint32Array;
  histPool: Float64Array[];
}

/** Allocates the workspace for a matrix. */
export function createGrowWorkspace(matrix: BinnedMatrix): GrowWorkspace {
  return {
    matrix,
    gh: new Float64Array(2 * matrix.numRows),
    rows: new Uint32Array(matrix.numRows),
    rowCount: 0,
    scratch: new Uint32Array(matrix.numRows),
    histPool: [],
  };
}

interface PendingNode {
  id: number;
  begin: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  hist: Float64Array | null;
}

const RT_EPS = 1e-6;

/** Grows one tree from the gradients in `ws.gh` over rows `ws.rows[0..rowCount)`. */
export function growTree(ws: GrowWorkspace, p: GrowParams, allowed: Uint8Array): GrownTree {
  const t: GrownTree = {
    left: [],
    right: [],
    feature: [],
    value: [],
    defaultLeft: [],
    splitType: [],
    baseWeight: [],
    gain: [],
    cover: [],
    categories: new Map(),
    leafRanges: [],
  };
  const { matrix: m, gh, rows } = ws;
  let g = 0;
  let h = 0;
  for (let i = 0; i < ws.rowCount; i++) {
    const r = rows[i]!;
    g += gh[2 * r]!;
    h += gh[2 * r + 1]!;
  }
  addNode(t);
  const root: PendingNode = { id: 0, begin: 0, end: ws.rowCount, depth: 0, g, h, hist: null };
  if (canSplit(root, p)) {
    root.hist = takeHist(ws);
    buildHistogram(ws, root.hist, root.begin, root.end);
  }
  let level: PendingNode[] = [root];
  const best = emptySplit();
  while (level.length > 0) {
    const next: PendingNode[] = [];
    const pairs: [PendingNode, PendingNode, Float64Array][] = [];
    for (const node of level) {
      const w = leafWeight(p, node.g, node.h);
      t.baseWeight[node.id] = Math.fround(w);
      t.cover[node.id] = Math.fround(node.h);
      best.gain = 0;
      best.feature = -1;
      if (node.hist !== null) findBestSplit(m, node.hist, node.g, node.h, allowed, p, best);
      if (best.feature < 0 || best.gain <= RT_EPS || best.gain < p.gamma) {
        t.value[node.id] = Math.fround(Math.fround(w) * Math.fround(p.eta));
        t.leafRanges.push({ node: node.id, begin: node.begin, end: node.end });
        if (node.hist !== null) ws.histPool.push(node.hist);
        continue;
      }
      const f = best.feature;
      const leftId = addNode(t);
      const rightId = addNode(t);
      t.left[node.id] = leftId;
      t.right[node.id] = rightId;
      t.feature[node.id] = f;
      t.defaultLeft[node.id] = best.defaultLeft ? 1 : 0;
      t.gain[node.id] = Math.fround(best.gain);
      let mid: number;
      if (best.rightCategories === null) {
        t.value[node.id] = m.cuts[f]![best.bin]!;
        mid = partitionNumeric(ws, node.begin, node.end, f, best.bin, best.defaultLeft);
      } else {
        t.value[node.id] = 0;
        t.splitType[node.id] = 1;
        t.categories.set(node.id, best.rightCategories);
        mid = partitionCategorical(ws, node.begin, node.end, f, best.rightCategories, best.defaultLeft);
      }
      const l: PendingNode = { id: leftId, begin: node.begin, end: mid, depth: node.depth + 1, g: best.leftG, h: best.leftH, hist: null };
      const r: PendingNode = {
        id: rightId,
        begin: mid,
        end: node.end,
        depth: node.depth + 1,
        g: node.g - best.leftG,
        h: node.h - best.leftH,
        hist: null,
      };
      next.push(l, r);
      pairs.push([l, r, node.hist!]);
    }
    for (const [l, r, parentHist] of pairs) fillChildHistograms(ws, p, l, r, parentHist);
    level = next;
  }
  return t;
}

function addNode(t: GrownTree): number {
  const id = t.left.length;
  t.left.push(-1);
  t.right.push(-1);
  t.feature.push(0);
  t.value.push(0);
  t.defaultLeft.push(0);
  t.splitType.push(0);
  t.baseWeight.push(0);
  t.gain.push(0);
  t.cover.push(0);
  return id;
}

function canSplit(n: PendingNode, p: GrowParams): boolean {
  return n.depth < p.maxDepth && n.end - n.begin >= 2 && n.h >= 2 * p.minChildWeight;
}

/** Gives each child that may split a histogram; the larger one reuses the parent's buffer. */
function fillChildHistograms(ws: GrowWorkspace, p: GrowParams, l: PendingNode, r: PendingNode, parent: Float64Array): void {
  const needL = canSplit(l, p);
  const needR = canSplit(r, p);
  if (!needL && !needR) {
    ws.histPool.push(parent);
    return;
  }
  const lSmaller = l.end - l.begin <= r.end - r.begin;
  const small = lSmaller ? l : r;
  const large = lSmaller ? r : l;
  const needSmall = lSmaller ? needL : needR;
  const needLarge = lSmaller ? needR : needL;
  // Subtraction touches every bin; for small nodes, summing their rows is cheaper.
  const nf = ws.matrix.numFeatures;
  const buildLargeDirectly = (large.end - large.begin) * nf * 2 < parent.length;
  if (needLarge && !buildLargeDirectly) {
    const sh = takeHist(ws);
    buildHistogram(ws, sh, small.begin, small.end);
    for (let i = 0; i < parent.length; i++) parent[i]! -= sh[i]!;
    large.hist = parent;
    if (needSmall) small.hist = sh;
    else ws.histPool.push(sh);
    return;
  }
  if (needLarge) {
    buildHistogram(ws, parent, large.begin, large.end);
    large.hist = parent;
    if (needSmall) {
      small.hist = takeHist(ws);
      buildHistogram(ws, small.hist, small.begin, small.end);
    }
    return;
  }
  buildHistogram(ws, parent, small.begin, small.end);
  small.hist = parent;
}

function takeHist(ws: GrowWorkspace): Float64Array {
  return ws.histPool.pop() ?? new Float64Array(2 * ws.matrix.totalBins);
}

/** Accumulates gradient pairs of rows[begin..end) into per-bin sums (the hot loop of training). */
function buildHistogram(ws: GrowWorkspace, hist: Float64Array, begin: number, end: number): void {
  hist.fill(0);
  const { gh, rows } = ws;
  const bins = ws.matrix.bins;
  const nf = ws.matrix.numFeatures;
  for (let i = begin; i < end; i++) {
    const r = rows[i]!;
    const g = gh[2 * r]!;
    const h = gh[2 * r + 1]!;
    const base = r * nf;
    for (let f = 0; f < nf; f++) {
      const b = bins[base + f]! << 1;
      hist[b]! += g;
      hist[b + 1]! += h;
    }
  }
}

/** Stable partition of rows[begin..end) into left then right; returns the boundary. */
function partitionNumeric(ws: GrowWorkspace, begin: number, end: number, f: number, bin: number, defaultLeft: boolean): number {
  const { rows, scratch } = ws;
  const bins = ws.matrix.bins;
  const nf = ws.matrix.numFeatures;
  const limit = ws.matrix.offset[f]! + bin;
  const missing = ws.matrix.offset[f + 1]! - 1;
  let nl = begin;
  let nr = 0;
  for (let i = begin; i < end; i++) {
    const r = rows[i]!;
    const b = bins[r * nf + f]!;
    const goLeft = b === missing ? defaultLeft : b <= limit;
    if (goLeft) rows[nl++] = r;
    else scratch[nr++] = r;
  }
  rows.set(scratch.subarray(0, nr), nl);
  return nl;
}

function partitionCategorical(
  ws: GrowWorkspace,
  begin: number,
  end: number,
  f: number,
  rightCats: number[],
  defaultLeft: boolean,
): number {
  const { rows, scratch } = ws;
  const bins = ws.matrix.bins;
  const nf = ws.matrix.numFeatures;
  const off = ws.matrix.offset[f]!;
  const missing = ws.matrix.offset[f + 1]! - 1;
  const goesRight = new Uint8Array(missing - off + 1);
  for (const c of rightCats) goesRight[c] = 1;
  goesRight[missing - off] = defaultLeft ? 0 : 1;
  let nl = begin;
  let nr = 0;
  for (let i = begin; i < end; i++) {
    const r = rows[i]!;
    if (goesRight[bins[r * nf + f]! - off] === 0) rows[nl++] = r;
    else scratch[nr++] = r;
  }
  rows.set(scratch.subarray(0, nr), nl);
  return nl;
}
