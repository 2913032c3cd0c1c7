/**
 * Open Inference Protocol (KServe v2) helpers, pure: parse an infer request
 * into a row-major feature matrix, and shape infer / metadata / ready
 * responses field by field as the REST spec defines them.
 *
 * Tabular models accept either one input tensor of shape [rows, features]
 * (or [features] for one row), or one input per feature, each of shape
 * [rows] or [rows, 1], named after the model's features.
 * `null` in the data is a missing value (NaN), as in the rest of the API.
 */
import { errors } from '../errors.js';

/** Datatypes accepted in request inputs. */
export const OIP_INPUT_DATATYPES = ['FP32', 'FP64', 'INT64', 'INT32', 'BOOL'] as const;
/** A supported input datatype. */
export type OipInputDatatype = (typeof OIP_INPUT_DATATYPES)[number];
/** A parameter value: `$parameter = $string : $string | $number | $boolean`. */
export type OipParameters = Record<string, string | number | boolean>;

/** `$request_input`. */
export interface OipRequestInput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: OipParameters;
  data: unknown;
}

/** `$response_output`. */
export interface OipResponseOutput {
  name: string;
  shape: number[];
  datatype: 'FP32' | 'FP64' | 'INT64' | 'INT32' | 'BOOL';
  parameters?: OipParameters;
  data: number[] | boolean[];
}

/** `$inference_response`. */
export interface OipInferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: OipParameters;
  outputs: OipResponseOutput[];
}

/** A validated infer request, ready for the predictor. */
export interface ParsedInferRequest {
  id: string | undefined;
  parameters: OipParameters;
  rows: number;
  columns: number;
  /** Row-major, `rows × columns`, NaN for missing. */
  matrix: Float32Array | Float64Array;
  /** Names from `outputs`, or undefined when all outputs are wanted. */
  requestedOutputs: string[] | undefined;
}

/** How to read a request for a given model. */
export interface ParseInferOptions {
  /** The model's feature names in order; required for one-input-per-feature requests. */
  featureNames?: readonly string[];
  /** Expected feature count when names are unknown. */
  numFeatures?: number;
  /** Matrix precision. Default fp64. */
  precision?: 'fp32' | 'fp64';
  /** Reject larger batches. Default 100,000 rows. */
  maxRows?: number;
}

const bad = (message: string, details?: Record<string, unknown>) => errors.validation(message, details);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseParameters(value: unknown, where: string): OipParameters {
  if (value === undefined) return {};
  if (!isRecord(value)) throw bad(`${where} must be an object`);
  for (const [k, v] of Object.entries(value)) {
    if (!['string', 'number', 'boolean'].includes(typeof v)) throw bad(`${where}.${k} must be a string, number or boolean`);
  }
  return value as OipParameters;
}

/** Flattens nested data (the spec allows nested or flat row-major arrays). */
function flatten(data: unknown, out: unknown[], depth: number): void {
  if (!Array.isArray(data)) {
    out.push(data);
    return;
  }
  if (depth > 8) throw bad('input data is nested too deeply');
  for (const item of data) flatten(item, out, depth + 1);
}

function readValue(value: unknown, datatype: OipInputDatatype, name: string, index: number): number {
  if (value === null) return Number.NaN;
  if (datatype === 'BOOL') {
    if (typeof value !== 'boolean') throw bad(`input '${name}' is BOOL but element ${index} is not true/false`, { input: name, index });
    return value ? 1 : 0;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw bad(`input '${name}' element ${index} is not a number (use null for a missing value)`, { input: name, index });
  }
  if ((datatype === 'INT32' || datatype === 'INT64') && !Number.isInteger(value)) {
    throw bad(`input '${name}' is ${datatype} but element ${index} is not an integer`, { input: name, index });
  }
  return value;
}

function parseInput(raw: unknown, i: number): { input: OipRequestInput; datatype: OipInputDatatype; values: unknown[] } {
  if (!isRecord(raw)) throw bad(`inputs[${i}] must be an object`);
  if (typeof raw.name !== 'string' || raw.name === '') throw bad(`inputs[${i}].name must be a non-empty string`);
  const name = raw.name;
  if (!Array.isArray(raw.shape) || raw.shape.length === 0 || !raw.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`input '${name}': shape must be a non-empty array of non-negative integers`, { input: name });
  }
  if (typeof raw.datatype !== 'string' || !(OIP_INPUT_DATATYPES as readonly string[]).includes(raw.datatype)) {
    throw bad(`input '${name}': unsupported datatype '${String(raw.datatype)}'; use one of ${OIP_INPUT_DATATYPES.join(', ')}`, {
      input: name,
    });
  }
  if (raw.data === undefined) throw bad(`input '${name}': data is required (binary tensor data is not supported)`, { input: name });
  const values: unknown[] = [];
  flatten(raw.data, values, 0);
  const shape = raw.shape as number[];
  const expected = shape.reduce((a, b) => a * b, 1);
  if (values.length !== expected) {
    throw bad(`input '${name}': shape [${shape.join(', ')}] needs ${expected} elements but data has ${values.length}`, {
      input: name,
      shape,
      elements: values.length,
    });
  }
  parseParameters(raw.parameters, `input '${name}' parameters`);
  return { input: raw as unknown as OipRequestInput, datatype: raw.datatype as OipInputDatatype, values };
}

/** Validates a v2 infer request body and returns its feature matrix; errors name the field at fault. */
export function parseInferRequest(body: unknown, options: ParseInferOptions = {}): ParsedInferRequest {
  if (!isRecord(body)) throw bad('the infer request must be a JSON object');
  if (body.id !== undefined && typeof body.id !== 'string') throw bad('id must be a string');
  const parameters = parseParameters(body.parameters, 'parameters');
  if (!Array.isArray(body.inputs) || body.inputs.length === 0) throw bad('inputs must be a non-empty array');
  let requestedOutputs: string[] | undefined;
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw bad('outputs must be an array');
    requestedOutputs = body.outputs.map((o, i) => {
      if (!isRecord(o) || typeof o.name !== 'string' || o.name === '') throw bad(`outputs[${i}].name must be a non-empty string`);
      parseParameters(o.parameters, `outputs[${i}].parameters`);
      return o.name;
    });
  }
  const inputs = body.inputs.map(parseInput);
  const maxRows = options.maxRows ?? 100_000;
  const Matrix = options.precision === 'fp32' ? Float32Array : Float64Array;
  let rows: number;
  let columns: number;
  let matrix: Float32Array | Float64Array;

  if (inputs.length === 1) {
    const { input, datatype, values } = inputs[0] as (typeof inputs)[number];
    if (input.shape.length > 2) throw bad(`input '${input.name}': shape must be [rows, features] or [features]`, { input: input.name });
    [rows, columns] = input.shape.length === 2 ? (input.shape as [number, number]) : [1, input.shape[0] as number];
    const expected = options.featureNames?.length ?? options.numFeatures;
    if (expected !== undefined && columns !== expected) {
      throw bad(`input '${input.name}': the model takes ${expected} features but the shape has ${columns}`, {
        input: input.name,
        expected,
        got: columns,
      });
    }
    if (rows > maxRows) throw bad(`at most ${maxRows} rows per request`);
    matrix = new Matrix(values.length);
    for (let i = 0; i < values.length; i++) matrix[i] = readValue(values[i], datatype, input.name, i);
  } else {
    const names = options.featureNames;
    if (names === undefined) throw bad('this model takes a single input tensor of shape [rows, features]');
    const column = new Map(names.map((n, i) => [n, i]));
    columns = names.length;
    const first = inputs[0]?.input.shape[0] ?? 0;
    rows = first;
    if (rows > maxRows) throw bad(`at most ${maxRows} rows per request`);
    matrix = new Matrix(rows * columns).fill(Number.NaN); // features not sent are missing
    const seen = new Set<string>();
    for (const { input, datatype, values } of inputs) {
      const c = column.get(input.name);
      if (c === undefined) throw bad(`input '${input.name}' is not a feature of this model`, { input: input.name });
      if (seen.has(input.name)) throw bad(`input '${input.name}' is given twice`, { input: input.name });
      seen.add(input.name);
      const ok = input.shape[0] === rows && (input.shape.length === 1 || (input.shape.length === 2 && input.shape[1] === 1));
      if (!ok) throw bad(`input '${input.name}': per-feature inputs must all have shape [${rows}] or [${rows}, 1]`, { input: input.name });
      for (let r = 0; r < rows; r++) matrix[r * columns + c] = readValue(values[r], datatype, input.name, r);
    }
  }
  return { id: body.id as string | undefined, parameters, rows, columns, matrix, requestedOutputs };
}

/** Keeps the outputs the request asked for (all when it asked for none); an unknown name is a 400. */
export function selectOutputs(available: readonly OipResponseOutput[], requested: readonly string[] | undefined): OipResponseOutput[] {
  if (requested === undefined) return [...available];
  return requested.map((name) => {
    const output = available.find((o) => o.name === name);
    if (output === undefined) {
      throw bad(`unknown output '${name}'; this model produces: ${available.map((o) => o.name).join(', ')}`, { output: name });
    }
    return output;
  });
}

/** One output tensor from a typed array of predictions: shape [rows] or [rows, perRow]. */
export function predictionOutput(name: string, values: Float32Array | Float64Array, rows: number, perRow = 1): OipResponseOutput {
  if (values.length !== rows * perRow) throw new Error(`output '${name}' has ${values.length} values, expected ${rows * perRow}`);
  return {
    name,
    shape: perRow === 1 ? [rows] : [rows, perRow],
    datatype: values instanceof Float32Array ? 'FP32' : 'FP64',
    data: Array.from(values),
  };
}

/** Builds `$inference_response`: `id` is echoed when the request had one; version omitted when unversioned. */
export function buildInferResponse(args: {
  modelName: string;
  modelVersion?: string;
  id?: string | undefined;
  parameters?: OipParameters;
  outputs: OipResponseOutput[];
}): OipInferResponse {
  return {
    model_name: args.modelName,
    ...(args.modelVersion === undefined ? {} : { model_version: args.modelVersion }),
    ...(args.id === undefined ? {} : { id: args.id }),
    ...(args.parameters === undefined || Object.keys(args.parameters).length === 0 ? {} : { parameters: args.parameters }),
    outputs: args.outputs,
  };
}

/** `$metadata_tensor`. */
export interface OipTensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/** Builds `$metadata_model_response`; variable dimensions are -1. */
export function buildModelMetadata(args: {
  name: string;
  versions?: string[];
  platform: string;
  inputs: OipTensorMetadata[];
  outputs: OipTensorMetadata[];
}): { name: string; versions?: string[]; platform: string; inputs: OipTensorMetadata[]; outputs: OipTensorMetadata[] } {
  return {
    name: args.name,
    ...(args.versions === undefined ? {} : { versions: args.versions }),
    platform: args.platform,
    inputs: args.inputs,
    outputs: args.outputs,
  };
}

/** Builds `$ready_model_response`. */
export function buildModelReady(name: string, ready: boolean): { name: string; ready: boolean } {
  return { name, ready };
}

/** Builds the protocol's error body, `{"error": $string}`. */
export function buildOipError(message: string): { error: string } {
  return { error: message };
}
