/**
 * Triton interoperability, pure: export a model as a Triton FIL-backend model
 * repository (so a tenant can take its model to Triton), and shape the
 * model-repository extension's index response.
 */
import { errors } from '../errors.js';

/** One file of an exported repository, relative to the repository root. */
export interface RepositoryFile {
  path: string;
  contents: string;
}

/** What the FIL backend needs to know about the model. */
export interface TritonFilExportOptions {
  modelName: string;
  numFeatures: number;
  /** The model saved as XGBoost JSON. */
  xgboostJson: string;
  /** true for classifiers (FIL returns class ids, or probabilities with `predictProba`), false for regressors. */
  outputClass: boolean;
  /** Return one score per class instead of the class id (classifiers only). */
  predictProba?: boolean;
  /** Classes for `predictProba`; binary models count as 1. Default 1. */
  numClasses?: number;
  /** Decision threshold of binary classifiers. */
  threshold?: number;
  /** Default 32768. */
  maxBatchSize?: number;
  /** CPU instances. Default 1. */
  instanceCount?: number;
  /** Model version directory. Default 1. */
  version?: number;
}

// Triton model names become directory names; keep them to safe characters.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const param = (key: string, value: string) => `  {\n    key: "${key}"\n    value: { string_value: "${value}" }\n  }`;

/** The `config.pbtxt` (protobuf text) of a FIL-backend model serving XGBoost JSON on CPU. */
export function tritonFilConfig(options: Omit<TritonFilExportOptions, 'xgboostJson'>): string {
  if (!NAME.test(options.modelName)) throw errors.validation(`model name '${options.modelName}' is not a valid Triton model name`);
  if (!Number.isSafeInteger(options.numFeatures) || options.numFeatures < 1) throw errors.validation('numFeatures must be a positive integer');
  const predictProba = options.outputClass && options.predictProba === true;
  const outputDims = predictProba ? Math.max(1, options.numClasses ?? 1) : 1;
  const parameters = [param('model_type', 'xgboost_json'), param('output_class', String(options.outputClass))];
  if (predictProba) parameters.push(param('predict_proba', 'true'));
  if (options.threshold !== undefined) {
    if (!Number.isFinite(options.threshold)) throw errors.validation('threshold must be a finite number');
    parameters.push(param('threshold', String(options.threshold)));
  }
  return [
    `name: "${options.modelName}"`,
    'backend: "fil"',
    `max_batch_size: ${options.maxBatchSize ?? 32768}`,
    'input [',
    '  {',
    '    name: "input__0"',
    '    data_type: TYPE_FP32',
    `    dims: [ ${options.numFeatures} ]`,
    '  }',
    ']',
    'output [',
    '  {',
    '    name: "output__0"',
    '    data_type: TYPE_FP32',
    `    dims: [ ${outputDims} ]`,
    '  }',
    ']',
    `instance_group [{ kind: KIND_CPU, count: ${options.instanceCount ?? 1} }]`,
    'parameters [',
    parameters.join(',\n'),
    ']',
    'dynamic_batching {}',
    '',
  ].join('\n');
}

/** The files of a Triton model repository holding this one model: `<model>/config.pbtxt` and `<model>/<v>/xgboost.json`. */
export function exportTritonFilModel(options: TritonFilExportOptions): RepositoryFile[] {
  try {
    JSON.parse(options.xgboostJson);
  } catch {
    throw errors.validation('xgboostJson is not valid JSON');
  }
  const version = options.version ?? 1;
  if (!Number.isSafeInteger(version) || version < 1) throw errors.validation('Triton model versions are positive integers');
  return [
    { path: `${options.modelName}/config.pbtxt`, contents: tritonFilConfig(options) },
    { path: `${options.modelName}/${version}/xgboost.json`, contents: options.xgboostJson },
  ];
}

/** Model states of the repository extension. */
export type TritonModelState = 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';

/** One row of `$repository_index_response`. */
export interface RepositoryIndexEntry {
  name: string;
  version?: string;
  state: TritonModelState;
  reason: string;
}

/** Builds the `POST /v2/repository/index` answer; `ready: true` keeps only READY models. */
export function buildRepositoryIndex(
  models: ReadonlyArray<{ name: string; version?: string; state: TritonModelState; reason?: string }>,
  request: { ready?: boolean } = {},
): RepositoryIndexEntry[] {
  return models
    .filter((m) => request.ready !== true || m.state === 'READY')
    .map((m) => ({
      name: m.name,
      ...(m.version === undefined ? {} : { version: m.version }),
      state: m.state,
      reason: m.reason ?? '',
    }));
}
