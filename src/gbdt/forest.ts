/**
 * Building, slicing, checking and measuring the flat forest representation.
 */
import { errors } from '../errors.js';
import type { GrownTree } from './tree-grower.js';
import type { Forest, GbdtModel } from './types.js';

/** Concatenates grown trees into one flat forest. */
export function forestFromTrees(trees: readonly GrownTree[]): Forest {
  let numNodes = 0;
  let numCatNodes = 0;
  let numCats = 0;
  for (const t of trees) {
    numNodes += t.left.length;
    numCatNodes += t.categories.size;
    for (const c of t.categories.values()) numCats += c.length;
  }
  const f = allocateForest(trees.length, numNodes, numCatNodes, numCats);
  let n = 0;
  let k = 0;
  let c = 0;
  trees.forEach((t, ti) => {
    f.treeStart[ti] = n;
    for (let i = 0; i < t.left.length; i++) {
      const g = n + i;
      f.left[g] = t.left[i]!;
      f.right[g] = t.right[i]!;
      f.feature[g] = t.feature[i]!;
      f.value[g] = t.value[i]!;
      f.defaultLeft[g] = t.defaultLeft[i]!;
      f.splitType[g] = t.splitType[i]!;
      f.baseWeight[g] = t.baseWeight[i]!;
      f.gain[g] = t.gain[i]!;
      f.cover[g] = t.cover[i]!;
    }
    for (const [node, cats] of [...t.categories.entries()].sort((a, b) => a[0] - b[0])) {
      f.catNodes[k] = n + node;
      f.catStart[k] = c;
      f.catSize[k] = cats.length;
      for (const v of cats) f.categories[c++] = v;
      k++;
    }
    n += t.left.length;
  });
  f.treeStart[trees.length] = n;
  return f;
}

/** Allocates an empty forest of the given sizes. */
export function allocateForest(numTrees: number, numNodes: number, numCatNodes: number, numCategories: number): Forest {
  return {
    numTrees,
    treeStart: new Int32Array(numTrees + 1),
    left: new Int32Array(numNodes),
    right: new Int32Array(numNodes),
    feature: new Int32Array(numNodes),
    value: new Float32Array(numNodes),
    defaultLeft: new Uint8Array(numNodes),
    splitType: new Uint8Array(numNodes),
    baseWeight: new Float32Array(numNodes),
    gain: new Float32Array(numNodes),
    cover: new Float32Array(numNodes),
    catNodes: new Int32Array(numCatNodes),
    catStart: new Int32Array(numCatNodes),
    catSize: new Int32Array(numCatNodes),
    categories: new Int32Array(numCategories),
  };
}

/** The first `count` trees of a forest (copies). */
export function sliceForest(f: Forest, count: number): Forest {
  const end = f.treeStart[count]!;
  let k = 0;
  while (k < f.catNodes.length && f.catNodes[k]! < end) k++;
  const catEnd = k === 0 ? 0 : f.catStart[k - 1]! + f.catSize[k - 1]!;
  return {
    numTrees: count,
    treeStart: f.treeStart.slice(0, count + 1),
    left: f.left.slice(0, end),
    right: f.right.slice(0, end),
    feature: f.feature.slice(0, end),
    value: f.value.slice(0, end),
    defaultLeft: f.defaultLeft.slice(0, end),
    splitType: f.splitType.slice(0, end),
    baseWeight: f.baseWeight.slice(0, end),
    gain: f.gain.slice(0, end),
    cover: f.cover.slice(0, end),
    catNodes: f.catNodes.slice(0, k),
    catStart: f.catStart.slice(0, k),
    catSize: f.catSize.slice(0, k),
    categories: f.categories.slice(0, catEnd),
  };
}

/**
 * Checks that a forest is well formed: every tree is a proper binary tree
 * reachable from its root, features are in range and category sets are
 * consistent. Everything that later compiles or walks a forest relies on it.
 */
export function validateForest(f: Forest, numFeatures: number): void {
  const bad = (msg: string): never => {
    throw errors.validation(`invalid model: ${msg}`);
  };
  const numNodes = f.left.length;
  if (f.treeStart.length !== f.numTrees + 1 || f.treeStart[0] !== 0 || f.treeStart[f.numTrees] !== numNodes) bad('tree offsets');
  for (const a of [f.right, f.feature, f.value, f.defaultLeft, f.splitType, f.baseWeight, f.gain, f.cover]) {
    if (a.length !== numNodes) bad('node arrays of different lengths');
  }
  const seen = new Uint8Array(numNodes);
  for (let t = 0; t < f.numTrees; t++) {
    const start = f.treeStart[t]!;
    const size = f.treeStart[t + 1]! - start;
    if (size < 1) bad(`tree ${t} is empty`);
    // Every non-root node must be the child of exactly one node of the same tree.
    for (let i = 0; i < size; i++) {
      const g = start + i;
      const l = f.left[g]!;
      const r = f.right[g]!;
      if (l === -1 && r === -1) continue;
      if (l <= 0 || r <= 0 || l >= size || r >= size || l === r) bad(`tree ${t} node ${i} has invalid children`);
      for (const c of [l, r]) {
        if (seen[start + c]) bad(`tree ${t} node ${c} has two parents`);
        seen[start + c] = 1;
      }
      const feat = f.feature[g]!;
      if (!(feat >= 0 && feat < numFeatures)) bad(`tree ${t} node ${i} tests feature ${feat}, model has ${numFeatures}`);
      if (f.splitType[g]! > 1) bad(`tree ${t} node ${i} has split type ${f.splitType[g]}`);
    }
    for (let i = 1; i < size; i++) if (!seen[start + i]) bad(`tree ${t} node ${i} is unreachable`);
  }
  const catCount = f.catNodes.length;
  if (f.catStart.length !== catCount || f.catSize.length !== catCount) bad('category index arrays of different lengths');
  let prev = -1;
  for (let k = 0; k < catCount; k++) {
    const node = f.catNodes[k]!;
    if (node <= prev || node >= numNodes || f.splitType[node] !== 1) bad(`categorical node list entry ${k}`);
    prev = node;
    const s = f.catStart[k]!;
    const z = f.catSize[k]!;
    if (s < 0 || z < 0 || s + z > f.categories.length) bad(`category set of node ${node} out of range`);
    for (let j = s; j < s + z; j++) if (f.categories[j]! < 0) bad(`negative category at node ${node}`);
  }
  let cats = 0;
  for (let i = 0; i < numNodes; i++) if (f.splitType[i] === 1 && f.left[i] !== -1) cats++;
  if (cats !== catCount) bad('categorical nodes without category sets');
}

/** Bytes held by a forest's arrays. */
export function forestSizeBytes(f: Forest): number {
  let total = 0;
  for (const a of [f.treeStart, f.left, f.right, f.feature, f.value, f.defaultLeft, f.splitType, f.baseWeight, f.gain, f.cover, f.catNodes, f.catStart, f.catSize, f.categories]) {
    total += a.byteLength;
  }
  return total;
}

/** Approximate memory footprint of a model in bytes (arrays plus names), for cache budgets. */
export function modelSizeBytes(model: GbdtModel): number {
  let names = 0;
  for (const n of model.featureNames) names += 2 * n.length + 16;
  return forestSizeBytes(model.forest) + names + 8 * model.featureKinds.length + 256;
}
