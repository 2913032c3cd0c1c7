import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildRepositoryIndex, exportTritonFilModel, tritonFilConfig } from '../../../src/serving/triton-repository.js';

describe('Triton FIL export', () => {
  test('config.pbtxt for a regressor: fil backend, FP32 input__0 of num_features, output__0 of 1, CPU, xgboost_json', () => {
    const text = tritonFilConfig({ modelName: 'churn', numFeatures: 12, outputClass: false });
    assert.equal(
      text,
      [
        'name: "churn"',
        'backend: "fil"',
        'max_batch_size: 32768',
        'input [',
        '  {',
        '    name: "input__0"',
        '    data_type: TYPE_FP32',
        '    dims: [ 12 ]',
        '  }',
        ']',
        'output [',
        '  {',
        '    name: "output__0"',
        '    data_type: TYPE_FP32',
        '    dims: [ 1 ]',
        '  }',
        ']',
        'instance_group [{ kind: KIND_CPU, count: 1 }]',
        'parameters [',
        '  {',
        '    key: "model_type"',
        '    value: { string_value: "xgboost_json" }',
        '  },',
        '  {',
        '    key: "output_class"',
        '    value: { string_value: "false" }',
        '  }',
        ']',
        'dynamic_batching {}',
        '',
      ].join('\n'),
    );
  });

  test('a classifier with predict_proba over 3 classes, a threshold and a custom batch size', () => {
    const text = tritonFilConfig({ modelName: 'm', numFeatures: 4, outputClass: true, predictProba: true, numClasses: 3, threshold: 0.3, maxBatchSize: 1024 });
    assert.match(text, /max_batch_size: 1024\n/);
    assert.match(text, /name: "output__0"\n {4}data_type: TYPE_FP32\n {4}dims: \[ 3 \]/);
    assert.match(text, /key: "output_class"\n {4}value: \{ string_value: "true" \}/);
    assert.match(text, /key: "predict_proba"\n {4}value: \{ string_value: "true" \}/);
    assert.match(text, /key: "threshold"\n {4}value: \{ string_value: "0.3" \}/);
  });

  test('the repository holds <model>/config.pbtxt and <model>/<version>/xgboost.json with the JSON untouched', () => {
    const json = '{"learner":{"gradient_booster":{}},"version":[2,0,0]}';
    const files = exportTritonFilModel({ modelName: 'churn', numFeatures: 3, xgboostJson: json, outputClass: true, version: 2 });
    assert.deepEqual(files.map((f) => f.path), ['churn/config.pbtxt', 'churn/2/xgboost.json']);
    assert.equal(files[1]?.contents, json);
    assert.match(files[0]?.contents ?? '', /dims: \[ 3 \]/);
  });

  test('bad names, feature counts and JSON are rejected', () => {
    assert.throws(() => tritonFilConfig({ modelName: '../x', numFeatures: 3, outputClass: false }), /not a valid Triton model name/);
    assert.throws(() => tritonFilConfig({ modelName: 'x', numFeatures: 0, outputClass: false }), /numFeatures/);
    assert.throws(() => exportTritonFilModel({ modelName: 'x', numFeatures: 1, xgboostJson: '{', outputClass: false }), /not valid JSON/);
  });
});

describe('Triton repository index', () => {
  test('entries carry name, version, state and reason; ready:true keeps READY only', () => {
    const models = [
      { name: 'a', version: '1', state: 'READY' as const },
      { name: 'b', state: 'UNAVAILABLE' as const, reason: 'evicted' },
    ];
    assert.deepEqual(buildRepositoryIndex(models), [
      { name: 'a', version: '1', state: 'READY', reason: '' },
      { name: 'b', state: 'UNAVAILABLE', reason: 'evicted' },
    ]);
    assert.deepEqual(buildRepositoryIndex(models, { ready: true }).map((m) => m.name), ['a']);
  });
});
