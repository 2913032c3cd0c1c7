/**
 * Tenant A's flood for the noisy-neighbour bench, on a thread of its own (a
 * piscina task), as it would come from other machines: a thousand responses a
 * second handled on the event loop that sends B's requests and times them
 * would delay B in the client, and the bench would count that against the server.
 *
 * Sends open loop at `rate` for `ms`, and on while `busy[0]` is 1 (the main
 * thread clears it when A's batch has been answered); resolves with the statuses.
 */
import { openLoop } from './_open-loop.js';
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
  const send = async () => {
    const res = await fetch(task.url, {
      method: task.method,
      headers: { authorization: `Bearer ${task.key}`, ...(task.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(task.body === undefined ? {} : { body: task.body }),
    });
    await res.arrayBuffer();
    return res.status;
  };
  const { statuses, spanMs } = await openLoop(task.rate, task.ms, send, () => Atomics.load(task.busy, 0) === 1);
  return { statuses, spanMs };
}
