/**
 * Worker-thread entry of the batch-prediction pool (loaded by piscina): one
 * task is one streamed batch, driven over the MessagePort it brings. The
 * thread runs below the event loop's CPU priority (see the first import).
 */
import './batch-thread-priority.js';
import type { MessagePort } from 'node:worker_threads';
import type { BatchJob, BatchSessionSummary } from './batch-protocol.js';
import { type BatchPort, runBatchSession } from './batch-session.js';
import { warmUpBatchThread } from './batch-warm-up.js';

/** Runs one batch session until the event loop closes or cancels it. */
export default function runBatchInWorker(task: { job: BatchJob; port: MessagePort }): Promise<BatchSessionSummary> {
  return runBatchSession(task.job, task.port as unknown as BatchPort);
}

// The thread's first batch, its own (see batch-warm-up.ts). Should it fail, tenants' batches run the same code and
// report the failure themselves; the warm-up only saves them the cold start.
warmUpBatchThread().catch(() => {});
