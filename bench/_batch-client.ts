/**
 * Tenant A's batch client for the noisy-neighbour bench, in a process of its
 * own at a lower priority (see `_client-process.ts`): building a ten-megabyte
 * CSV, uploading it and reading an eighteen-megabyte answer on the load
 * generator's event loop would delay B's requests in the client, and the bench
 * would count that against the server.
 *
 * On `{type: 'build', ...BatchTask}` it builds the body and answers `ready`; on
 * `go` it sends it, answers `uploading` once the request is on its way, and
 * `{type: 'answered', ...}` with the outcome.
 */
import { onParentMessage, reportFailure } from './_client-process.js';

export interface BatchTask {
  url: string;
  key: string;
  rows: number;
  features: string[];
}

export interface BatchResult {
  type: 'answered';
  status: number;
  ms: number;
  predictions: number;
  head: string;
}

function csvBody(task: BatchTask): Buffer {
  const lines = [task.features.join(',')];
  for (let i = 0; i < task.rows; i++) lines.push(`${i % 100},${i % 3 === 0 ? 1 : 0},${i % 7}`);
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

async function send(task: BatchTask, bytes: Buffer): Promise<BatchResult> {
  const startedAt = performance.now();
  let at = 0;
  // A stream, so the bench learns when the headers are out (the first pull) and can start A's flood only then:
  // the batch is one of A's requests, admitted before the flood spends A's burst.
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at === 0) process.send?.({ type: 'uploading' });
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, at + 1024 * 1024));
      at += 1024 * 1024;
    },
  });
  const res = await fetch(task.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${task.key}`, 'content-type': 'text/csv' },
    body,
    duplex: 'half',
  } as RequestInit);
  let commas = 0;
  let head = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (head.length < 300) head += bytes.toString('utf8', 0, 300);
    for (let at = bytes.indexOf(44); at >= 0; at = bytes.indexOf(44, at + 1)) commas++;
  }
  // One comma between predictions, one before "model", two inside it.
  return { type: 'answered', status: res.status, ms: performance.now() - startedAt, predictions: res.status === 200 ? commas - 2 : 0, head };
}

let task: BatchTask | undefined;
let body: Buffer | undefined;
onParentMessage((message: { type: string } & BatchTask) => {
  if (message.type === 'build') {
    task = message;
    body = csvBody(task);
    process.send?.({ type: 'ready' });
  } else if (message.type === 'go' && task && body) {
    send(task, body).then((result) => process.send?.(result), reportFailure);
  }
});
