import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isAppError } from '../../../src/errors.js';
import {
  buildInferResponse,
  buildModelMetadata,
  buildModelReady,
  buildOipError,
  parseInferRequest,
  predictionOutput,
  selectOutputs,
} from '../../../src/serving/oip.js';

function rejects(body: unknown, pattern: RegExp, options = {}) {
  assert.throws(
    () => parseInferRequest(body, options),
    (error: unknown) => isAppError(error) && error.code === 'validation_failed' && pattern.test(error.message),
  );
}

const input = (over: Record<string, unknown> = {}) => ({ name: 'input-0', shape: [2, 3], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6], ...over });

describe('OIP infer request parsing', () => {
  test('a [rows, features] tensor becomes a row-major matrix; id, parameters and outputs are kept', () => {
    const parsed = parseInferRequest(
      { id: '42', parameters: { content_type: 'np', n: 1, flag: true }, inputs: [input()], outputs: [{ name: 'predict' }] },
      { numFeatures: 3 },
    );
    assert.equal(parsed.id, '42');
    assert.deepEqual(parsed.parameters, { content_type: 'np', n: 1, flag: true });
    assert.equal(parsed.rows, 2);
    assert.equal(parsed.columns, 3);
    assert.ok(parsed.matrix instanceof Float64Array);
    assert.deepEqual(Array.from(parsed.matrix), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(parsed.requestedOutputs, ['predict']);
  });

  test('nested data equals flat data; a 1-D shape is one row; fp32 precision gives a Float32Array', () => {
    const nested = parseInferRequest({ inputs: [input({ data: [[1, 2, 3], [4, 5, 6]] })] });
    assert.deepEqual(Array.from(nested.matrix), [1, 2, 3, 4, 5, 6]);
    const one = parseInferRequest({ inputs: [input({ shape: [3], data: [0.5, 1, 2] })] }, { precision: 'fp32' });
    assert.equal(one.rows, 1);
    assert.ok(one.matrix instanceof Float32Array);
    assert.equal(one.requestedOutputs, undefined);
    assert.equal(one.id, undefined);
  });

  test('null is a missing value (NaN); BOOL maps to 1/0; integer types accept integers', () => {
    const parsed = parseInferRequest({ inputs: [input({ shape: [1, 3], data: [null, 2, null] })] });
    assert.ok(Number.isNaN(parsed.matrix[0]) && Number.isNaN(parsed.matrix[2]));
    assert.equal(parsed.matrix[1], 2);
    assert.deepEqual(Array.from(parseInferRequest({ inputs: [input({ shape: [2], datatype: 'BOOL', data: [true, false] })] }).matrix), [1, 0]);
    assert.deepEqual(Array.from(parseInferRequest({ inputs: [input({ shape: [2], datatype: 'INT64', data: [7, -3] })] }).matrix), [7, -3]);
  });

  test('one input per feature, matched by name; unsent features are missing', () => {
    const parsed = parseInferRequest(
      {
        inputs: [
          { name: 'b', shape: [2], datatype: 'FP64', data: [10, 20] },
          { name: 'a', shape: [2, 1], datatype: 'INT32', data: [[1], [2]] },
        ],
      },
      { featureNames: ['a', 'b', 'c'] },
    );
    assert.equal(parsed.columns, 3);
    const m = Array.from(parsed.matrix);
    assert.deepEqual([m[0], m[1], m[3], m[4]], [1, 10, 2, 20]);
    assert.ok(Number.isNaN(m[2]) && Number.isNaN(m[5]));
    rejects({ inputs: [{ name: 'zz', shape: [1], datatype: 'FP32', data: [1] }, { name: 'a', shape: [1], datatype: 'FP32', data: [1] }] }, /'zz' is not a feature/, {
      featureNames: ['a'],
    });
    rejects({ inputs: [input(), input()] }, /single input tensor/);
  });

  test('clear errors for every malformed field', () => {
    rejects('x', /JSON object/);
    rejects({}, /inputs must be a non-empty array/);
    rejects({ inputs: [] }, /inputs must be a non-empty array/);
    rejects({ id: 7, inputs: [input()] }, /id must be a string/);
    rejects({ inputs: [input({ name: '' })] }, /inputs\[0\]\.name/);
    rejects({ inputs: [input({ shape: [2, -1] })] }, /shape must be/);
    rejects({ inputs: [input({ shape: [] })] }, /shape must be/);
    rejects({ inputs: [input({ datatype: 'BYTES' })] }, /unsupported datatype 'BYTES'/);
    rejects({ inputs: [input({ datatype: 'UINT8' })] }, /unsupported datatype/);
    rejects({ inputs: [input({ data: [1, 2, 3] })] }, /needs 6 elements but data has 3/);
    rejects({ inputs: [input({ data: undefined })] }, /data is required/);
    rejects({ inputs: [input({ data: [1, 2, 'x', 4, 5, 6] })] }, /element 2 is not a number/);
    rejects({ inputs: [input({ shape: [1], datatype: 'INT32', data: [1.5] })] }, /not an integer/);
    rejects({ inputs: [input({ shape: [1], datatype: 'BOOL', data: [1] })] }, /BOOL/);
    rejects({ inputs: [input({ shape: [1, 1, 6] })] }, /\[rows, features\]/);
    rejects({ inputs: [input()] }, /takes 4 features but the shape has 3/, { numFeatures: 4 });
    rejects({ inputs: [input()] }, /at most 1 rows/, { maxRows: 1 });
    rejects({ parameters: { x: [1] }, inputs: [input()] }, /parameters\.x/);
    rejects({ inputs: [input()], outputs: [{}] }, /outputs\[0\]\.name/);
  });
});

describe('OIP responses', () => {
  const outputs = [predictionOutput('predict', new Float64Array([0.25, 0.75]), 2), predictionOutput('proba', new Float32Array([0.5, 0.5, 0.25, 0.75]), 2, 2)];

  test('output tensors carry name, shape, datatype and flat data', () => {
    assert.deepEqual(outputs[0], { name: 'predict', shape: [2], datatype: 'FP64', data: [0.25, 0.75] });
    assert.deepEqual(outputs[1], { name: 'proba', shape: [2, 2], datatype: 'FP32', data: [0.5, 0.5, 0.25, 0.75] });
    assert.throws(() => predictionOutput('x', new Float64Array(3), 2));
  });

  test('the infer response echoes the id and names the model and version, in the spec field order', () => {
    const response = buildInferResponse({ modelName: 'churn', modelVersion: '3', id: '42', outputs: [outputs[0] ?? assert.fail()] });
    assert.deepEqual(Object.keys(response), ['model_name', 'model_version', 'id', 'outputs']);
    assert.deepEqual(response, {
      model_name: 'churn',
      model_version: '3',
      id: '42',
      outputs: [{ name: 'predict', shape: [2], datatype: 'FP64', data: [0.25, 0.75] }],
    });
    const bare = buildInferResponse({ modelName: 'churn', id: undefined, parameters: {}, outputs: [] });
    assert.deepEqual(bare, { model_name: 'churn', outputs: [] });
  });

  test('selectOutputs keeps requested outputs in request order and rejects unknown names', () => {
    assert.deepEqual(selectOutputs(outputs, undefined).map((o) => o.name), ['predict', 'proba']);
    assert.deepEqual(selectOutputs(outputs, ['proba']).map((o) => o.name), ['proba']);
    assert.throws(() => selectOutputs(outputs, ['nope']), /unknown output 'nope'.*predict, proba/);
  });

  test('metadata, ready and error bodies', () => {
    assert.deepEqual(
      buildModelMetadata({
        name: 'churn',
        versions: ['1', '2'],
        platform: 'tenantml_gbdt',
        inputs: [{ name: 'input-0', datatype: 'FP64', shape: [-1, 3] }],
        outputs: [{ name: 'predict', datatype: 'FP64', shape: [-1] }],
      }),
      {
        name: 'churn',
        versions: ['1', '2'],
        platform: 'tenantml_gbdt',
        inputs: [{ name: 'input-0', datatype: 'FP64', shape: [-1, 3] }],
        outputs: [{ name: 'predict', datatype: 'FP64', shape: [-1] }],
      },
    );
    assert.deepEqual(buildModelReady('churn', true), { name: 'churn', ready: true });
    assert.deepEqual(buildOipError('boom'), { error: 'boom' });
  });
});
