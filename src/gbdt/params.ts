/**
 * Training parameters: XGBoost's meanings and defaults, camelCase names, and
 * one validation pass that names the offending parameter.
 */
import { errors } from '../errors.js';
import { OBJECTIVE_NAMES, type ObjectiveName } from './types.js';

/** Metrics usable for early stopping. */
export type EvalMetricName = 'rmse' | 'mae' | 'mphe' | 'logloss' | 'error' | 'poisson-nloglik' | 'tweedie-nloglik';

/** Training parameters; every field is optional and defaults as XGBoost 1.7 does. */
export interface TrainParams {
  objective?: ObjectiveName;
  /** Learning rate (XGBoost `eta`), default 0.3. */
  eta?: number;
  maxDepth?: number;
  minChildWeight?: number;
  /** L2 regularisation on leaf weights (`lambda`), default 1. */
  lambda?: number;
  /** L1 regularisation on leaf weights (`alpha`), default 0. */
  alpha?: number;
  /** Minimum gain to split (`gamma`, `min_split_loss`), default 0. */
  gamma?: number;
  /** Clip on leaf weights; 0 = none (0.7 for count:poisson, as XGBoost). */
  maxDeltaStep?: number;
  subsample?: number;
  colsampleBytree?: number;
  maxBin?: number;
  seed?: number;
  numBoostRound?: number;
  /** Stop when the validation metric has not improved for this many rounds. */
  earlyStoppingRounds?: number;
  evalMetric?: EvalMetricName;
  /** Initial prediction in output space; default 0.5 (XGBoost 1.7). */
  baseScore?: number;
  tweedieVariancePower?: number;
  huberSlope?: number;
  scalePosWeight?: number;
  /** Categorical features with fewer categories than this use one-vs-rest splits. */
  maxCatToOnehot?: number;
  /** Largest category set considered on one side of a partition split. */
  maxCatThreshold?: number;
}

/** TrainParams with every default filled in. */
export type ResolvedParams = Required<Omit<TrainParams, 'earlyStoppingRounds' | 'evalMetric'>> & {
  earlyStoppingRounds: number;
  evalMetric: EvalMetricName;
};

const DEFAULT_METRIC: Record<ObjectiveName, EvalMetricName> = {
  'reg:squarederror': 'rmse',
  'reg:absoluteerror': 'mae',
  'reg:pseudohubererror': 'mphe',
  'count:poisson': 'poisson-nloglik',
  'reg:tweedie': 'tweedie-nloglik',
  'binary:logistic': 'logloss',
};

const EVAL_METRICS: readonly EvalMetricName[] = ['rmse', 'mae', 'mphe', 'logloss', 'error', 'poisson-nloglik', 'tweedie-nloglik'];

/** Fills defaults and rejects out-of-range values with a message naming the parameter. */
export function resolveParams(params: TrainParams = {}): ResolvedParams {
  const objective = params.objective ?? 'reg:squarederror';
  if (!OBJECTIVE_NAMES.includes(objective)) {
    throw errors.validation(`unknown objective '${String(objective)}'; use one of: ${OBJECTIVE_NAMES.join(', ')}`, { param: 'objective' });
  }
  const evalMetric = params.evalMetric ?? DEFAULT_METRIC[objective];
  if (!EVAL_METRICS.includes(evalMetric)) {
    throw errors.validation(`unknown evalMetric '${String(evalMetric)}'; use one of: ${EVAL_METRICS.join(', ')}`, { param: 'evalMetric' });
  }
  const r: ResolvedParams = {
    objective,
    eta: params.eta ?? 0.3,
    maxDepth: params.maxDepth ?? 6,
    minChildWeight: params.minChildWeight ?? 1,
    lambda: params.lambda ?? 1,
    alpha: params.alpha ?? 0,
    gamma: params.gamma ?? 0,
    maxDeltaStep: params.maxDeltaStep ?? (objective === 'count:poisson' ? 0.7 : 0),
    subsample: params.subsample ?? 1,
    colsampleBytree: params.colsampleBytree ?? 1,
    maxBin: params.maxBin ?? 256,
    seed: params.seed ?? 0,
    numBoostRound: params.numBoostRound ?? 100,
    earlyStoppingRounds: params.earlyStoppingRounds ?? 0,
    evalMetric,
    baseScore: params.baseScore ?? 0.5,
    tweedieVariancePower: params.tweedieVariancePower ?? 1.5,
    huberSlope: params.huberSlope ?? 1,
    scalePosWeight: params.scalePosWeight ?? 1,
    maxCatToOnehot: params.maxCatToOnehot ?? 4,
    maxCatThreshold: params.maxCatThreshold ?? 64,
  };
  check('eta', r.eta, r.eta > 0 && r.eta <= 1, 'in (0, 1]');
  check('maxDepth', r.maxDepth, Number.isInteger(r.maxDepth) && r.maxDepth >= 1 && r.maxDepth <= 30, 'an integer in [1, 30]');
  check('minChildWeight', r.minChildWeight, r.minChildWeight >= 0, '>= 0');
  check('lambda', r.lambda, r.lambda >= 0, '>= 0');
  check('alpha', r.alpha, r.alpha >= 0, '>= 0');
  check('gamma', r.gamma, r.gamma >= 0, '>= 0');
  check('maxDeltaStep', r.maxDeltaStep, r.maxDeltaStep >= 0, '>= 0');
  check('subsample', r.subsample, r.subsample > 0 && r.subsample <= 1, 'in (0, 1]');
  check('colsampleBytree', r.colsampleBytree, r.colsampleBytree > 0 && r.colsampleBytree <= 1, 'in (0, 1]');
  check('maxBin', r.maxBin, Number.isInteger(r.maxBin) && r.maxBin >= 2 && r.maxBin <= 65535, 'an integer in [2, 65535]');
  check('seed', r.seed, Number.isInteger(r.seed) && r.seed >= 0 && r.seed <= 0xffffffff, 'an integer in [0, 2^32)');
  check('numBoostRound', r.numBoostRound, Number.isInteger(r.numBoostRound) && r.numBoostRound >= 1 && r.numBoostRound <= 100000, 'an integer in [1, 100000]');
  check('earlyStoppingRounds', r.earlyStoppingRounds, Number.isInteger(r.earlyStoppingRounds) && r.earlyStoppingRounds >= 0, 'a non-negative integer');
  check('tweedieVariancePower', r.tweedieVariancePower, r.tweedieVariancePower > 1 && r.tweedieVariancePower < 2, 'in (1, 2)');
  check('huberSlope', r.huberSlope, r.huberSlope > 0, '> 0');
  check('scalePosWeight', r.scalePosWeight, r.scalePosWeight > 0, '> 0');
  check('maxCatToOnehot', r.maxCatToOnehot, Number.isInteger(r.maxCatToOnehot) && r.maxCatToOnehot >= 1, 'a positive integer');
  check('maxCatThreshold', r.maxCatThreshold, Number.isInteger(r.maxCatThreshold) && r.maxCatThreshold >= 1, 'a positive integer');
  const bs = r.baseScore;
  if (objective === 'binary:logistic') check('baseScore', bs, bs > 0 && bs < 1, 'in (0, 1) for binary:logistic');
  else if (objective === 'count:poisson' || objective === 'reg:tweedie') check('baseScore', bs, bs > 0, `> 0 for ${objective}`);
  else check('baseScore', bs, Number.isFinite(bs), 'finite');
  return r;
}

function check(name: string, value: number, ok: boolean, expected: string): void {
  if (typeof value !== 'number' || Number.isNaN(value) || !ok) {
    throw errors.validation(`parameter ${name} must be ${expected}, got ${String(value)}`, { param: name });
  }
}

const SNAKE_TO_CAMEL: Record<string, keyof TrainParams> = {
  objective: 'objective',
  eta: 'eta',
  learning_rate: 'eta',
  max_depth: 'maxDepth',
  min_child_weight: 'minChildWeight',
  lambda: 'lambda',
  reg_lambda: 'lambda',
  alpha: 'alpha',
  reg_alpha: 'alpha',
  gamma: 'gamma',
  min_split_loss: 'gamma',
  max_delta_step: 'maxDeltaStep',
  subsample: 'subsample',
  colsample_bytree: 'colsampleBytree',
  max_bin: 'maxBin',
  seed: 'seed',
  num_boost_round: 'numBoostRound',
  n_estimators: 'numBoostRound',
  early_stopping_rounds: 'earlyStoppingRounds',
  eval_metric: 'evalMetric',
  base_score: 'baseScore',
  tweedie_variance_power: 'tweedieVariancePower',
  huber_slope: 'huberSlope',
  scale_pos_weight: 'scalePosWeight',
  max_cat_to_onehot: 'maxCatToOnehot',
  max_cat_threshold: 'maxCatThreshold',
};

/**
 * Converts XGBoost-style parameters (`max_depth`, `colsample_bytree`, ...;
 * camelCase names pass through) into TrainParams. Unknown names are an error,
 * so a typo is not silently ignored.
 */
export function paramsFromXgboost(input: Record<string, unknown>): TrainParams {
  const out: Record<string, unknown> = {};
  const camelNames = new Set<string>(Object.values(SNAKE_TO_CAMEL));
  for (const [key, raw] of Object.entries(input)) {
    if (raw === undefined || raw === null) continue;
    const name = SNAKE_TO_CAMEL[key] ?? (camelNames.has(key) ? key : undefined);
    if (name === undefined) throw errors.validation(`unknown training parameter '${key}'`, { param: key });
    if (name === 'objective' || name === 'evalMetric') {
      out[name] = String(raw);
    } else {
      const value = typeof raw === 'string' ? Number(raw) : raw;
      if (typeof value !== 'number' || Number.isNaN(value)) {
        throw errors.validation(`parameter ${key} must be a number, got ${JSON.stringify(raw)}`, { param: key });
      }
      out[name] = value;
    }
  }
  return out as TrainParams;
}
