/**
 * Writes a GbdtModel as an XGBoost JSON model that XGBoost 1.7 (and later)
 * loads and predicts identically. XGBoost 1.7 is strict: parameters must be
 * strings, and `num_trees`, `tree_info` and the tree list must agree (a
 * mismatch crashes it). Floats are written as the shortest decimal that
 * round-trips the float32 value. Categorical split conditions are written as
 * 0 rather than XGBoost's own bare NaN, so the output is valid JSON.
 */
import type { GbdtModel } from './types.js';

/** Serializes a model to XGBoost JSON text. */
export function exportXgboostJson(model: GbdtModel): string {
  const f = model.forest;
  const nf = String(model.numFeatures);
  const trees: string[] = [];
  let k = 0;
  for (let t = 0; t < f.numTrees; t++) {
    const start = f.treeStart[t]!;
    const end = f.treeStart[t + 1]!;
    const n = end - start;
    const parents = new Array<number>(n).fill(2147483647);
    for (let i = 0; i < n; i++) {
      if (f.left[start + i] !== -1) {
        parents[f.left[start + i]!] = i;
        parents[f.right[start + i]!] = i;
      }
    }
    const catNodes: number[] = [];
    const catSegments: number[] = [];
    const catSizes: number[] = [];
    const cats: number[] = [];
    while (k < f.catNodes.length && f.catNodes[k]! < end) {
      catNodes.push(f.catNodes[k]! - start);
      catSegments.push(cats.length);
      catSizes.push(f.catSize[k]!);
      for (let j = 0; j < f.catSize[k]!; j++) cats.push(f.categories[f.catStart[k]! + j]!);
      k++;
    }
    const ints = (a: ArrayLike<number>): string => `[${Array.prototype.join.call(sliceOf(a, start, end), ',')}]`;
    const floats = (a: Float32Array, nanAs = 'NaN'): string => `[${Array.from(a.subarray(start, end), (v) => (Number.isNaN(v) ? nanAs : float32ToString(v))).join(',')}]`;
    const leafMask = (a: ArrayLike<number>): string => {
      const out: number[] = [];
      for (let i = start; i < end; i++) out.push(f.left[i] === -1 ? 0 : a[i]!);
      return `[${out.join(',')}]`;
    };
    trees.push(
      '{' +
        `"base_weights":${floats(f.baseWeight, '0.0')},` +
        `"categories":[${cats.join(',')}],` +
        `"categories_nodes":[${catNodes.join(',')}],` +
        `"categories_segments":[${catSegments.join(',')}],` +
        `"categories_sizes":[${catSizes.join(',')}],` +
        `"default_left":${leafMask(f.defaultLeft)},` +
        `"id":${t},` +
        `"left_children":${ints(f.left)},` +
        `"loss_changes":${floats(f.gain, '0.0')},` +
        `"parents":[${parents.join(',')}],` +
        `"right_children":${ints(f.right)},` +
        `"split_conditions":${floats(f.value, '0.0')},` +
        `"split_indices":${leafMask(f.feature)},` +
        `"split_type":${leafMask(f.splitType)},` +
        `"sum_hessian":${floats(f.cover, '0.0')},` +
        `"tree_param":{"num_deleted":"0","num_feature":${JSON.stringify(nf)},"num_nodes":"${n}","size_leaf_vector":"0"}` +
        '}',
    );
  }
  const hasCategorical = model.featureKinds.includes('categorical');
  const types = hasCategorical ? model.featureKinds.map((kind) => (kind === 'categorical' ? 'c' : 'q')) : [];
  const attributes =
    model.bestIteration === undefined
      ? {}
      : { best_iteration: String(model.bestIteration), best_ntree_limit: String(model.bestIteration + 1) };
  return (
    '{"learner":{' +
    `"attributes":${JSON.stringify(attributes)},` +
    `"feature_names":${JSON.stringify(model.featureNames)},` +
    `"feature_types":${JSON.stringify(types)},` +
    '"gradient_booster":{"model":{' +
    `"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"${f.numTrees}","size_leaf_vector":"0"},` +
    `"tree_info":[${new Array<number>(f.numTrees).fill(0).join(',')}],` +
    `"trees":[${trees.join(',')}]` +
    '},"name":"gbtree"},' +
    `"learner_model_param":{"base_score":"${float32ToString(model.baseScore)}","boost_from_average":"1","num_class":"0","num_feature":${JSON.stringify(nf)},"num_target":"1"},` +
    `"objective":${JSON.stringify(objectiveBlock(model))}` +
    '},"version":[1,7,4]}'
  );
}

function sliceOf(a: ArrayLike<number>, start: number, end: number): ArrayLike<number> {
  return (a as Int32Array).subarray(start, end);
}

function objectiveBlock(model: GbdtModel): Record<string, unknown> {
  const o = model.objective;
  switch (o.name) {
    case 'reg:squarederror':
    case 'binary:logistic':
      return { name: o.name, reg_loss_param: { scale_pos_weight: float32ToString(o.scalePosWeight) } };
    case 'reg:absoluteerror':
      return { name: o.name };
    case 'reg:pseudohubererror':
      return { name: o.name, pseudo_huber_param: { huber_slope: float32ToString(o.huberSlope) } };
    case 'count:poisson':
      return { name: o.name, poisson_regression_param: { max_delta_step: float32ToString(o.maxDeltaStep) } };
    case 'reg:tweedie':
      return { name: o.name, tweedie_regression_param: { tweedie_variance_power: float32ToString(o.tweedieVariancePower) } };
  }
}

/**
 * The shortest decimal that reads back as the same float32 (as XGBoost
 * writes floats). It always has a '.' or an exponent: XGBoost's JSON reader
 * types `0` as an integer and refuses it where a float belongs.
 */
export function float32ToString(value: number): string {
  const v = Math.fround(value);
  if (!Number.isFinite(v)) return v > 0 ? '3.4028235e38' : v < 0 ? '-3.4028235e38' : '0.0';
  let s = String(v);
  for (let p = 1; p <= 9; p++) {
    const t = v.toPrecision(p);
    if (Math.fround(Number(t)) === v) {
      s = String(Number(t));
      break;
    }
  }
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
