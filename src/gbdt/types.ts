/**
 * Public data types of the gradient-boosting library: training data, feature
 * kinds, objectives and the in-memory model (a flat forest).
 */

/** How a feature is treated: compared with a threshold, or split by category sets. */
export type FeatureKind = 'numeric' | 'categorical';

/** The learning objectives, named as XGBoost names them. */
export type ObjectiveName =
  | 'reg:squarederror'
  | 'reg:absoluteerror'
  | 'reg:pseudohubererror'
  | 'count:poisson'
  | 'reg:tweedie'
  | 'binary:logistic';

/** Every objective name, in a stable order. */
export const OBJECTIVE_NAMES: readonly ObjectiveName[] = [
  'reg:squarederror',
  'reg:absoluteerror',
  'reg:pseudohubererror',
  'count:poisson',
  'reg:tweedie',
  'binary:logistic',
];

/** A numeric array the library accepts as input; values are read as float32. */
export type NumericArray = Float32Array | Float64Array | readonly number[];

/**
 * A training (or validation) set: a row-major feature matrix of
 * `labels.length` rows by `numFeatures` columns. NaN marks a missing value.
 * Categorical columns hold non-negative integer category codes.
 */
export interface Dataset {
  features: NumericArray;
  labels: NumericArray;
  numFeatures: number;
  /** Optional per-row weights (default 1). */
  weights?: NumericArray;
}

/** Objective settings that travel with the model (they shape the output). */
export interface ObjectiveConfig {
  name: ObjectiveName;
  /** reg:tweedie only, in (1, 2). */
  tweedieVariancePower: number;
  /** reg:pseudohubererror only. */
  huberSlope: number;
  /** Written to XGBoost's poisson_regression_param. */
  maxDeltaStep: number;
  /** binary:logistic only. */
  scalePosWeight: number;
}

/**
 * The trees of a model, concatenated into flat arrays. Node ids inside a tree
 * are local (0 is the root), as in XGBoost; tree t owns global nodes
 * `treeStart[t] .. treeStart[t+1]-1`.
 */
export interface Forest {
  numTrees: number;
  /** Length numTrees + 1. */
  treeStart: Int32Array;
  /** Local id of the left child, -1 at a leaf. */
  left: Int32Array;
  /** Local id of the right child, -1 at a leaf. */
  right: Int32Array;
  /** Feature index tested at the node (0 at leaves). */
  feature: Int32Array;
  /** Threshold (numeric split: x < value goes left) or, at a leaf, the leaf value. */
  value: Float32Array;
  /** 1 when a missing value goes left. */
  defaultLeft: Uint8Array;
  /** 0 numeric, 1 categorical. */
  splitType: Uint8Array;
  /** Node weight G/(H+lambda) before eta; not used for prediction. */
  baseWeight: Float32Array;
  /** Split gain; 0 at leaves. */
  gain: Float32Array;
  /** Sum of hessians (cover) of the rows reaching the node. */
  cover: Float32Array;
  /** Global ids of categorical nodes, ascending. */
  catNodes: Int32Array;
  /** For the k-th categorical node, its sorted category set is `categories[catStart[k] .. catStart[k]+catSize[k]]`. */
  catStart: Int32Array;
  catSize: Int32Array;
  /** Categories that go right, per categorical node. */
  categories: Int32Array;
}

/** A trained or imported gradient-boosted tree model. */
export interface GbdtModel {
  objective: ObjectiveConfig;
  /** Initial prediction in output space (e.g. a mean count), stored as float32. */
  baseScore: number;
  numFeatures: number;
  featureNames: string[];
  featureKinds: FeatureKind[];
  forest: Forest;
  /** Round (0-based) with the best validation metric when early stopping ran. */
  bestIteration?: number;
}
