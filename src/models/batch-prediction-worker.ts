/**
 * Worker-thread entry of the batch-prediction pool (loaded by piscina): one
 * task is one streamed batch, driven over the MessagePort it brings.
 *
 * The thread runs at a lower CPU priority than the event loop. Moving a batch
 * off the event loop keeps it from blocking requests, but on a machine with
 * few cores the thread still competes with the event loop for CPU time; at
 * equal priority a busy batch thread costs real-time requests their tail
 * latency. Lowered, it takes the CPU the serving thread leaves idle — the
 * batch lane's "yield to real-time work", applied by the kernel.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import type { BatchJob, BatchSessionSummary } from './batch-protocol.js';
import { type BatchPort, runBatchSession } from './batch-session.js';

/** The nice value of batch threads (0 is the event loop's, 19 the lowest priority). */
export const BATCH_THREAD_NICE = 10;

lowerThisThreadsPriority(BATCH_THREAD_NICE);

/** Runs one batch session until the event loop closes or cancels it. */
export default function runBatchInWorker(task: { job: BatchJob; port: MessagePort }): Promise<BatchSessionSummary> {
  return runBatchSession(task.job, task.port as unknown as BatchPort);
}

/** Linux schedules threads as tasks with their own nice value; elsewhere the thread keeps the process's priority. */
function lowerThisThreadsPriority(nice: number): void {
  try {
    // `/proc/thread-self` → `<pid>/task/<tid>`; setpriority on a tid changes that thread only.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // No procfs or no permission: run at normal priority.
  }
}
