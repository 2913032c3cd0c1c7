import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError, errors } from '../../src/errors.js';

const frames = (e: Error) => (e.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at ')).length;

describe('AppError stacks', () => {
  it('flood rejections (429, 503 shed, 401) carry no stack frames, keep their message, and leave the limit as it was', () => {
    const before = Error.stackTraceLimit;
    for (const e of [new AppError('rate_limited', 'slow down'), new AppError('quota_exceeded', 'daily quota'), new AppError('overloaded', 'shed'), errors.unauthorized()]) {
      assert.equal(frames(e), 0, e.code);
      assert.ok(e.stack?.includes(e.message));
      assert.ok(e instanceof Error);
    }
    assert.equal(Error.stackTraceLimit, before);
  });

  it('other errors keep their stack, which is what tells where they came from', () => {
    assert.ok(frames(errors.validation('bad column')) > 0);
    assert.ok(frames(new AppError('internal', 'broken')) > 0);
    assert.ok(frames(new Error('plain')) > 0);
  });
});
