/**
 * A batch thread's warm-up runs a synthetic batch through the session code a
 * tenant's batch takes, to its last slice.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { warmUpBatchThread } from '../../../src/models/batch-warm-up.js';

test('the warm-up batch is read, predicted in slices and its answer taken whole', async () => {
  assert.equal(await warmUpBatchThread(25_000), 25_000);
  assert.equal(await warmUpBatchThread(1), 1);
});
