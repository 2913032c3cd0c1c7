/**
 * Tenant A's flood for the noisy-neighbour bench, in a process of its own at
 * a lower priority (see `_client-process.ts`), as it would come from other
 * machines: a thousand responses a second handled on the event loop that sends
 * B's requests and times them would delay B in the client, and the bench would
 * count that against the server.
 *
 * On `{type: 'flood', ...FloodTask}` it sends open loop at `rate` for `ms`, and
 * on until `{type: 'busy', value: false}` arrives if the task began busy, then
 * answers `{type: 'flooded', statuses, spanMs}`. It serves floods until killed.
 */
import { Pool } from 'undici';
import { onParentMessage, reportFailure } from './_client-process.js';
import { openLoop, statusOf } from './_open-loop.js';

export interface FloodTask {
  url: string;
  key: string;
  method: 'GET' | 'POST';
  /** A JSON body, for POST. */
  body?: string;
  rate: number;
  ms: number;
  /** True: keep flooding past `ms` until a `busy: false` message. */
  busy: boolean;
}

export interface FloodResult {
  type: 'flooded';
  statuses: number[];
  spanMs: number;
}

let busy = false;
let pool: Pool | undefined;

async function flood(task: FloodTask): Promise<FloodResult> {
  busy = task.busy;
  const url = new URL(task.url);
  // At a thousand requests a second, `fetch` would take half a core the server's machine would not spend on A's clients.
  pool ??= new Pool(url.origin, { connections: 32 });
  const client = pool;
  const headers = { authorization: `Bearer ${task.key}`, ...(task.body === undefined ? {} : { 'content-type': 'application/json' }) };
  const request = { path: url.pathname, method: task.method, headers, ...(task.body === undefined ? {} : { body: task.body }) };
  const { statuses, spanMs } = await openLoop(task.rate, task.ms, () => statusOf(client, request), () => busy);
  return { type: 'flooded', statuses, spanMs };
}

onParentMessage((message: { type: string; value?: boolean } & FloodTask) => {
  if (message.type === 'busy') busy = message.value === true;
  else if (message.type === 'flood') flood(message).then((result) => process.send?.(result), reportFailure);
});
