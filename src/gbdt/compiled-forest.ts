/**
 * The predictors' flat layout of a forest: re-laid out breadth-first so a
 * node's right child is always `left + 1`, with leaves that point back to
 * themselves (child = id - 1, threshold NaN) so lockstep walks can take a
 * fixed number of steps. Plain typed arrays, so it can be posted to a worker.
 */
import { baseMarginOf, linkOf, type LinkKind } from './objectives.js';
import { type PackedNodes, type PackedReads, packNodes, readsOf, unpacked } from './packed-walk.js';
import type { GbdtModel } from './types.js';

/** Trees walked together by the lockstep kernel (the kernel is unrolled for this number). */
export const LOCKSTEP = 8;

/** The walker's flat layout; a numeric forest also has its nodes packed for single rows (`packed-walk.ts`). */
export interface CompiledForest extends PackedNodes {
  numFeatures: number;
  link: LinkKind;
  baseMargin: number;
  roots: Int32Array;
  /** Depth of each tree (steps from root to its deepest leaf). */
  treeDepth: Int32Array;
  /** Feature per node, 0 at leaves (so lockstep walks can read it there too). */
  stepFeature: Int32Array;
  /** Threshold per node; NaN at leaves. */
  threshold: Float32Array;
  /** Leaf value at leaves, 0 elsewhere. */
  value: Float32Array;
  /** Id of the left child (the right child is the next node); id - 1 at leaves, so a node is a leaf when `child < id`. */
  child: Int32Array;
  /** Where a missing value goes: 1 left, 0 right; 0 at leaves. */
  missLeft: Uint8Array;
  /** Deepest tree of each group of 8 consecutive trees. */
  groupDepth: Int32Array;
  /**
   * For categorical nodes, the word offset of its category bitset in `catBits`; -1 otherwise. Empty when the
   * forest has no categorical split (`hasCategorical` false): a numeric model reads neither, and the two arrays
   * were 8 of its 29 bytes a node, in memory and in every cold load's read and checksum.
   */
  catOffset: Int32Array;
  /** Number of 32-bit words in each categorical node's bitset (empty like `catOffset`). */
  catWords: Int32Array;
  catBits: Uint32Array;
  hasCategorical: boolean;
  /** Where the single-row walk reads the packed nodes (`PackedReads`). */
  walk: PackedReads;
  /** Bytes of the arrays, when known without reading them (a decoded layout views each array on first use). */
  readonly arrayBytes?: number;
}

/** Re-lays a model's forest out for fast walking. */
export function compileForest(model: GbdtModel): CompiledForest {
  const f = model.forest;
  const total = f.left.length;
  const stepFeature = new Int32Array(total);
  const threshold = new Float32Array(total);
  const value = new Float32Array(total);
  const child = new Int32Array(total);
  const missLeft = new Uint8Array(total);
  const hasCategorical = f.catNodes.length > 0;
  // Per-node category arrays only for a forest with categorical splits (see `CompiledForest.catOffset`).
  const catOffset = new Int32Array(hasCategorical ? total : 0).fill(-1);
  const catWords = new Int32Array(hasCategorical ? total : 0);
  const roots = new Int32Array(f.numTrees);
  const treeDepth = new Int32Array(f.numTrees);
  const catIndex = new Map<number, number>();
  f.catNodes.forEach((node, k) => {
    catIndex.set(node, k);
  });
  const bits: number[] = [];
  let next = 0;
  // Typed scratch space instead of per-tree Maps and arrays: a load compiles ~13k nodes, and this runs per load.
  const queue = new Int32Array(total);
  const depthOf = new Int32Array(total);
  const newId = new Int32Array(total);
  for (let t = 0; t < f.numTrees; t++) {
    const start = f.treeStart[t]!;
    roots[t] = next;
    let queued = 0;
    queue[queued] = start;
    depthOf[queued++] = 0;
    newId[start] = next++;
    let deepest = 0;
    for (let qi = 0; qi < queued; qi++) {
      const g = queue[qi]!;
      const id = newId[g]!;
      const l = f.left[g]!;
      const depth = depthOf[qi]!;
      if (depth > deepest) deepest = depth;
      if (l === -1) {
        threshold[id] = Number.NaN;
        value[id] = f.value[g]!;
        child[id] = id - 1;
        continue;
      }
      stepFeature[id] = f.feature[g]!;
      threshold[id] = f.value[g]!;
      missLeft[id] = f.defaultLeft[g] === 1 ? 1 : 0;
      child[id] = next;
      const lg = start + l;
      const rg = start + f.right[g]!;
      newId[lg] = next++;
      newId[rg] = next++;
      queue[queued] = lg;
      depthOf[queued++] = depth + 1;
      queue[queued] = rg;
      depthOf[queued++] = depth + 1;
      if (f.splitType[g] === 1) {
        const k = catIndex.get(g)!;
        const cats = f.categories.subarray(f.catStart[k]!, f.catStart[k]! + f.catSize[k]!);
        let max = -1;
        for (const c of cats) if (c > max) max = c;
        const words = (max >> 5) + 1;
        catOffset[id] = bits.length;
        catWords[id] = words;
        const base = bits.length;
        for (let w = 0; w < words; w++) bits.push(0);
        for (const c of cats) bits[base + (c >> 5)] = (bits[base + (c >> 5)]! | (1 << (c & 31))) >>> 0;
      }
    }
    treeDepth[t] = deepest;
  }
  // Every node is reachable in a valid forest, so the arrays are usually full: no copy then.
  const trimmed = <A extends Int32Array | Float32Array | Uint8Array>(a: A): A => (next === total ? a : (a.slice(0, next) as A));
  const groupDepth = new Int32Array(Math.ceil(f.numTrees / LOCKSTEP));
  for (let t = 0; t < f.numTrees; t++) {
    const g = Math.floor(t / LOCKSTEP);
    if (treeDepth[t]! > groupDepth[g]!) groupDepth[g] = treeDepth[t]!;
  }
  const layout = {
    numFeatures: model.numFeatures,
    link: linkOf(model.objective.name),
    baseMargin: baseMarginOf(model.objective.name, model.baseScore),
    roots,
    treeDepth,
    stepFeature: trimmed(stepFeature),
    threshold: trimmed(threshold),
    value: trimmed(value),
    child: trimmed(child),
    missLeft: trimmed(missLeft),
    groupDepth,
    catOffset: trimmed(catOffset),
    catWords: trimmed(catWords),
    catBits: Uint32Array.from(bits),
    hasCategorical,
  };
  const packing = hasCategorical ? unpacked() : packNodes(layout);
  return { ...layout, ...packing, walk: readsOf(packing) };
}

/** A leaf's child id points back before it (see `CompiledForest.child`). */
export function isLeaf(c: CompiledForest, n: number): boolean {
  return c.child[n]! < n;
}

/** XGBoost's category test: only non-negative values below 2^24 can be in a set. */
export function inCategorySet(bits: Uint32Array, offset: number, words: number, x: number): boolean {
  if (!(x >= 0 && x < 16777216)) return false;
  const c = Math.trunc(x);
  const w = c >> 5;
  return w < words && (bits[offset + w]! & (1 << (c & 31))) !== 0;
}

function arraysOf(c: CompiledForest): ArrayBufferView[] {
  return [c.roots, c.treeDepth, c.groupDepth, c.stepFeature, c.threshold, c.value, c.child, c.missLeft, c.catOffset, c.catWords, c.catBits, c.packed, c.packedLeaves, c.cuts, c.cutStart];
}

/** The buffers of a compiled layout, for `postMessage(c, transferablesOf(c))` to a worker thread. Empty ones stay (a decoded layout shares them). */
export function transferablesOf(c: CompiledForest): ArrayBuffer[] {
  return [...new Set(arraysOf(c).map((a) => a.buffer as ArrayBuffer))].filter((b) => b.byteLength > 0);
}

/** Bytes held by a compiled layout. */
export function sizeOfCompiled(c: CompiledForest): number {
  if (c.arrayBytes !== undefined) return 128 + c.arrayBytes;
  let total = 128;
  for (const a of arraysOf(c)) {
    total += a.byteLength;
  }
  return total;
}

