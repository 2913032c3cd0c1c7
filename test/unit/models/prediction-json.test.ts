import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { predictionsAnswer, predictionsJson } from '../../../src/models/prediction-json.js';
import type { ServedBy } from '../../../src/models/prediction-service.js';

// What JSON.stringify makes of the answer object: the text the hand-written formatter must match.
const asObject = (values: ArrayLike<number>, model: ServedBy) => JSON.stringify({ predictions: Array.from(values), model });

describe('prediction answer text', () => {
  const values = Float32Array.from([0.1, -0, 1e-8, 3.4e38, -2.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 123456.789]);

  it('is the text JSON.stringify makes of the answer: float32 values, null for NaN and ±Infinity', () => {
    const model: ServedBy = { name: 'churn', version: 12, source: 'tenant' };
    assert.equal(predictionsAnswer(values, model), asObject(values, model));
    assert.equal(predictionsAnswer(Array.from(values), model), asObject(values, model));
    assert.equal(predictionsAnswer([], { ...model, source: 'global' }), asObject([], { ...model, source: 'global' }));
  });

  it('escapes a model name the way JSON does', () => {
    const model: ServedBy = { name: 'q"uote\\back\nline\u0001é', version: 1, source: 'global' };
    const text = predictionsAnswer([1.5], model);
    assert.equal(text, asObject([1.5], model));
    assert.deepEqual(JSON.parse(text).model, model);
  });

  it('is what the streamed answer writes, piece by piece', async () => {
    const model: ServedBy = { name: 'm', version: 3, source: 'tenant' };
    let streamed = '';
    for await (const piece of predictionsJson(values, model)) streamed += piece;
    assert.equal(streamed, predictionsAnswer(values, model));
  });
});
