/**
 * Loads a model saved by XGBoost (`save_model("m.json")`, format 1.7 and
 * later) into a GbdtModel. XGBoost writes bare `NaN` tokens (categorical
 * split conditions), which JSON.parse rejects, so they are rewritten first.
 */
import { errors } from '../errors.js';
import { allocateForest, validateForest } from './forest.js';
import { objectiveConfig } from './objectives.js';
import { OBJECTIVE_NAMES, type FeatureKind, type GbdtModel, type ObjectiveName } from './types.js';

type Json = Record<string, unknown>;

const bad = (msg: string): never => {
  throw errors.validation(`invalid XGBoost model: ${msg}`);
};

/** Parses XGBoost JSON model text (or its UTF-8 bytes). */
export function importXgboostJson(input: string | Uint8Array): GbdtModel {
  const text = typeof input === 'string' ? input : new TextDecoder().decode(input);
  let doc: unknown;
  try {
    doc = JSON.parse(replaceNonFiniteTokens(text));
  } catch (e) {
    return bad(`not JSON (${(e as Error).message})`);
  }
  const learner = obj(obj(doc, 'document').learner, 'learner');
  const booster = obj(learner.gradient_booster, 'gradient_booster');
  if (booster.name !== 'gbtree') bad(`booster '${String(booster.name)}' is not supported (only gbtree)`);
  const model = obj(booster.model, 'gradient_booster.model');
  const mparam = obj(learner.learner_model_param, 'learner_model_param');
  const objective = obj(learner.objective, 'objective');
  const name = objective.name as ObjectiveName;
  if (!OBJECTIVE_NAMES.includes(name)) bad(`objective '${String(objective.name)}' is not supported; supported: ${OBJECTIVE_NAMES.join(', ')}`);
  const numClass = Number(mparam.num_class ?? 0);
  const numTarget = Number(mparam.num_target ?? 1);
  if (numClass > 1 || numTarget > 1) bad('multi-class and multi-target models are not supported');
  const numFeatures = Number(mparam.num_feature);
  if (!Number.isInteger(numFeatures) || numFeatures < 1) bad('learner_model_param.num_feature is missing');
  const baseScore = parseBaseScore(mparam.base_score);

  const param = (block: string, key: string): number | undefined => {
    const b = objective[block];
    if (b === undefined || b === null || typeof b !== 'object') return undefined;
    const v = (b as Json)[key];
    return v === undefined ? undefined : Number(v);
  };
  const cfg = objectiveConfig(name, {
    ...optional('tweedieVariancePower', param('tweedie_regression_param', 'tweedie_variance_power')),
    ...optional('maxDeltaStep', param('poisson_regression_param', 'max_delta_step')),
    ...optional('huberSlope', param('pseudo_huber_param', 'huber_slope')),
    ...optional('scalePosWeight', param('reg_loss_param', 'scale_pos_weight')),
  });

  const trees = arr(model.trees, 'trees') as unknown[];
  const treeInfo = arr(model.tree_info, 'tree_info');
  if (treeInfo.length !== trees.length) bad(`tree_info has ${treeInfo.length} entries for ${trees.length} trees`);
  const gparam = model.gbtree_model_param as Json | undefined;
  if (gparam?.num_trees !== undefined && Number(gparam.num_trees) !== trees.length) {
    bad(`num_trees says ${String(gparam.num_trees)} but there are ${trees.length} trees`);
  }
  if (gparam?.num_parallel_tree !== undefined && Number(gparam.num_parallel_tree) !== 1) bad('num_parallel_tree > 1 is not supported');

  const names = Array.isArray(learner.feature_names) ? (learner.feature_names as unknown[]).map(String) : [];
  if (names.length !== 0 && names.length !== numFeatures) bad(`${names.length} feature names for ${numFeatures} features`);
  const types = Array.isArray(learner.feature_types) ? (learner.feature_types as unknown[]).map(String) : [];
  const kinds: FeatureKind[] = Array.from({ length: numFeatures }, (_, i) => (types[i] === 'c' ? 'categorical' : 'numeric'));

  const forest = buildForest(trees);
  validateForest(forest, numFeatures);
  const attributes = (learner.attributes ?? {}) as Json;
  const best = attributes.best_iteration === undefined ? undefined : Number(attributes.best_iteration);
  return {
    objective: cfg,
    baseScore,
    numFeatures,
    featureNames: names,
    featureKinds: kinds,
    forest,
    ...(best !== undefined && Number.isInteger(best) ? { bestIteration: best } : {}),
  };
}

function optional<K extends string>(key: K, v: number | undefined): Partial<Record<K, number>> {
  return v === undefined || Number.isNaN(v) ? {} : ({ [key]: v } as Record<K, number>);
}

/** base_score is "5E-1" in 1.x and "[4.6E-1]" (a JSON array in a string) in newer files. */
export function parseBaseScore(raw: unknown): number {
  if (raw === undefined) return 0.5;
  let s = String(raw).trim();
  if (s.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch {
      return bad(`base_score '${s}' is not a valid array`);
    }
    if (!Array.isArray(parsed) || parsed.length !== 1) bad(`base_score '${s}' must hold exactly one value`);
    s = String((parsed as unknown[])[0]);
  }
  const v = Number(s);
  if (!Number.isFinite(v)) bad(`base_score '${String(raw)}' is not a number`);
  return Math.fround(v);
}

function buildForest(trees: unknown[]): ReturnType<typeof allocateForest> {
  let numNodes = 0;
  let numCatNodes = 0;
  let numCats = 0;
  const parsed = trees.map((t, i) => {
    const tree = obj(t, `trees[${i}]`);
    const n = (arr(tree.left_children, `trees[${i}].left_children`) as unknown[]).length;
    const declared = Number((tree.tree_param as Json | undefined)?.num_nodes ?? n);
    if (declared !== n) bad(`tree ${i}: num_nodes is ${declared} but left_children has ${n} entries`);
    const field = (key: string, required = true): unknown[] => {
      const v = tree[key];
      if (v === undefined && !required) return [];
      const a = arr(v, `trees[${i}].${key}`);
      if (a.length !== n) bad(`tree ${i}: ${key} has ${a.length} entries, expected ${n}`);
      return a;
    };
    const catNodes = (tree.categories_nodes ?? []) as unknown[];
    const catSizes = (tree.categories_sizes ?? []) as unknown[];
    numNodes += n;
    numCatNodes += catNodes.length;
    for (const s of catSizes) numCats += Number(s);
    return {
      n,
      left: field('left_children'),
      right: field('right_children'),
      feature: field('split_indices'),
      cond: field('split_conditions'),
      dleft: field('default_left'),
      stype: field('split_type', false),
      bw: field('base_weights', false),
      gain: field('loss_changes', false),
      cover: field('sum_hessian', false),
      catNodes,
      catSegments: (tree.categories_segments ?? []) as unknown[],
      catSizes,
      cats: (tree.categories ?? []) as unknown[],
    };
  });
  const f = allocateForest(trees.length, numNodes, numCatNodes, numCats);
  let g = 0;
  let k = 0;
  let c = 0;
  parsed.forEach((t, ti) => {
    f.treeStart[ti] = g;
    for (let i = 0; i < t.n; i++) {
      f.left[g + i] = int(t.left[i], ti);
      f.right[g + i] = int(t.right[i], ti);
      const isLeaf = f.left[g + i] === -1;
      f.feature[g + i] = isLeaf ? 0 : int(t.feature[i], ti);
      f.value[g + i] = t.cond[i] === null ? Number.NaN : Number(t.cond[i]);
      f.defaultLeft[g + i] = t.dleft[i] === true || Number(t.dleft[i]) === 1 ? 1 : 0;
      f.splitType[g + i] = isLeaf ? 0 : Number(t.stype[i] ?? 0);
      f.baseWeight[g + i] = Number(t.bw[i] ?? 0);
      f.gain[g + i] = Number(t.gain[i] ?? 0);
      f.cover[g + i] = Number(t.cover[i] ?? 0);
      if (!isLeaf && f.splitType[g + i] === 0 && Number.isNaN(f.value[g + i]!)) bad(`tree ${ti} node ${i} has a NaN threshold`);
      if (isLeaf && !Number.isFinite(f.value[g + i]!)) bad(`tree ${ti} leaf ${i} has value ${f.value[g + i]}`);
    }
    const order = t.catNodes.map((node, j) => ({ node: int(node, ti), j })).sort((a, b) => a.node - b.node);
    for (const { node, j } of order) {
      if (node < 0 || node >= t.n) bad(`tree ${ti}: categories_nodes entry ${node} out of range`);
      f.catNodes[k] = g + node;
      f.catStart[k] = c;
      const seg = int(t.catSegments[j], ti);
      const size = int(t.catSizes[j], ti);
      if (seg < 0 || seg + size > t.cats.length) bad(`tree ${ti}: category segment of node ${node} out of range`);
      f.catSize[k] = size;
      for (let s = 0; s < size; s++) f.categories[c++] = int(t.cats[seg + s], ti);
      k++;
    }
    g += t.n;
  });
  f.treeStart[parsed.length] = g;
  return f;
}

function int(v: unknown, tree: number): number {
  const n = Number(v);
  if (!Number.isInteger(n)) bad(`tree ${tree}: expected an integer, got ${JSON.stringify(v)}`);
  return n;
}

function obj(v: unknown, what: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(`${what} is missing or not an object`);
  return v as Json;
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) bad(`${what} is missing or not an array`);
  return v as unknown[];
}

/**
 * Rewrites bare NaN / Infinity / -Infinity tokens outside strings into JSON
 * (null, 1e999, -1e999), so JSON.parse accepts XGBoost's output.
 */
export function replaceNonFiniteTokens(text: string): string {
  if (!/NaN|Infinity|inf/.test(text)) return text;
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92) i++; // skip the escaped character
      else if (ch === 34) inString = false;
      continue;
    }
    if (ch === 34) {
      inString = true;
      continue;
    }
    let token: string | null = null;
    let replacement = '';
    if (ch === 78 && text.startsWith('NaN', i)) [token, replacement] = ['NaN', 'null'];
    else if (ch === 45 && text.startsWith('-NaN', i)) [token, replacement] = ['-NaN', 'null'];
    else if (ch === 73 && text.startsWith('Infinity', i)) [token, replacement] = ['Infinity', '1e999'];
    else if (ch === 45 && text.startsWith('-Infinity', i)) [token, replacement] = ['-Infinity', '-1e999'];
    else if (ch === 105 && text.startsWith('inf', i)) [token, replacement] = ['inf', '1e999'];
    else if (ch === 45 && text.startsWith('-inf', i)) [token, replacement] = ['-inf', '-1e999'];
    if (token !== null) {
      out += text.slice(last, i) + replacement;
      i += token.length - 1;
      last = i + 1;
    }
  }
  return out + text.slice(last);
}
