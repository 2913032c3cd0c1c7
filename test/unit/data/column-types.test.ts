import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coerceValue, inferType, ValueError } from '../../../src/data/column-types.js';

test('CSV text is parsed per type; empty is missing', () => {
  assert.equal(coerceValue('42', 'integer', true), 42);
  assert.equal(coerceValue(' 1.5e2 ', 'number', true), 150);
  assert.equal(coerceValue('TRUE', 'boolean', true), true);
  assert.equal(coerceValue('2026-02-28', 'date', true), '2026-02-28');
  assert.equal(coerceValue('2026-02-28T10:00:00+02:00', 'date', true), '2026-02-28T08:00:00.000Z');
  assert.equal(coerceValue('', 'number', true), null);
  assert.equal(coerceValue('x y', 'string', true), 'x y');
});

test('bad text values throw with a message naming the value', () => {
  assert.throws(() => coerceValue('1.5', 'integer', true), (e: Error) => e instanceof ValueError && /'1.5' is not an integer/.test(e.message));
  assert.throws(() => coerceValue('NaN', 'number', true), /not a finite number/);
  assert.throws(() => coerceValue('inf', 'number', true), /not a finite number/);
  assert.throws(() => coerceValue('1e999', 'number', true), /not a finite number/);
  assert.throws(() => coerceValue('2026-13-45', 'date', true), /not a valid date/);
  assert.throws(() => coerceValue('99999999999999999999', 'integer', true), /safe integer/);
});

test('JSON values must already have the right type', () => {
  assert.equal(coerceValue(3, 'number', false), 3);
  assert.throws(() => coerceValue('3', 'number', false), /expected a number/);
  assert.throws(() => coerceValue(3, 'string', false), /expected a string/);
  assert.throws(() => coerceValue(1.5, 'integer', false), /expected an integer/);
  assert.throws(() => coerceValue({}, 'string', false), /an object/);
  assert.equal(coerceValue('', 'string', false), '', 'an empty JSON string is a value, not a missing one');
});

test('inference picks the narrowest type that fits every value', () => {
  assert.equal(inferType(['1', '2', ''], true), 'integer');
  assert.equal(inferType(['1', '2.5'], true), 'number');
  assert.equal(inferType(['true', 'false'], true), 'boolean');
  assert.equal(inferType(['2026-01-01', '2026-01-02'], true), 'date');
  assert.equal(inferType(['1', 'x'], true), 'string');
  assert.equal(inferType(['', ''], true), 'string');
  assert.equal(inferType(['1.5', 'NaN'], true), 'number', 'a NaN token makes a bad value, not a string column');
  assert.equal(inferType([1, 2], false), 'integer');
  assert.equal(inferType(['1', '2'], false), 'string', 'JSON strings are strings');
});
