import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rlsLeakReason } from '../../../src/db/server-checks.js';

test('servers older than the RLS statistics-leak fixes are refused with a reason', () => {
  assert.match(rlsLeakReason(150013) ?? '', /15\.13 leaks row statistics .* upgrade to 15\.14/);
  assert.match(rlsLeakReason(160009) ?? '', /upgrade to 16\.10/);
  assert.match(rlsLeakReason(170005) ?? '', /upgrade to 17\.6/);
  assert.match(rlsLeakReason(120020) ?? '', /not supported/);
});

test('fixed releases and newer majors are accepted', () => {
  for (const v of [150014, 150020, 160010, 170006, 170010, 180000, 180007]) assert.equal(rlsLeakReason(v), null, String(v));
});
