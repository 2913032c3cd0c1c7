/**
 * Tenant A's flood for the noisy-neighbour bench, on a thread of its own (a
 * piscina task), as it would come from other machines: a thousand responses a
 * second handled on the event loop that sends B's requests and times them
 * would delay B in the client, and the bench would count that against the server.
 *
 * Sends open loop at `rate` for `ms`, and on while `busy[0]` is 1 (the main
 * thread clears it when A's batch has been answered); resolves with the statuses.
 */
import { Pool } from 'undici';
import { openLoop, statusOf } from './_open-loop.js';
import { lowerThisThreadsPriority } from '../src/models/batch-thread-priority.js';

export interface FloodClientTask {
  url: string;
  key: string;
  method: 'GET' | 'POST';
  /** A JSON body, for POST. */
  body?: string;
  rate: number;
  ms: number;
  /** A one-element Int32Array on a SharedArrayBuffer: 1 keeps the flood going past `ms`. */
  busy: Int32Array;
  /** This thread's nice value (see the bench's `--a-client-nice`). */
  nice: number;
}

export interface FloodClientResult {
  statuses: number[];
  spanMs: number;
}

export default async function runFloodClient(task: FloodClientTask): Promise<FloodClientResult> {
  lowerThisThreadsPriority(task.nice);
  const url = new URL(task.url);
  // At a thousand requests a second, `fetch` would take half a core the server's machine would not spend on A's clients.
  const pool = new Pool(url.origin, { connections: 32 });
  const headers = { authorization: `Bearer ${task.key}`, ...(task.body === undefined ? {} : { 'content-type': 'application/json' }) };
  const request = { path: url.pathname, method: task.method, headers, ...(task.body === undefined ? {} : { body: task.body }) };
  const send = () => statusOf(pool, request);
  try {
    const { statuses, spanMs } = await openLoop(task.rate, task.ms, send, () => Atomics.load(task.busy, 0) === 1);
    return { statuses, spanMs };
  } finally {
    await pool.close();
  }
}
