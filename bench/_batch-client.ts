/**
 * Tenant A's batch client for the noisy-neighbour bench, on a thread of its
 * own (a piscina task): building a ten-megabyte CSV, uploading it and reading
 * an eighteen-megabyte answer on the load generator's event loop would delay
 * B's requests in the client, and the bench would count that against the server.
 *
 * Posts `ready` on `port` once the body is built, starts on the first message,
 * posts `uploading` once the request is on its way, and resolves with the outcome.
 */
import { once } from 'node:events';
import type { MessagePort } from 'node:worker_threads';
import { lowerThisThreadsPriority } from '../src/models/batch-thread-priority.js';

export interface BatchClientTask {
  url: string;
  key: string;
  rows: number;
  features: string[];
  port: MessagePort;
  /** This thread's nice value (see the bench's `--a-client-nice`). */
  nice: number;
}

export interface BatchClientResult {
  status: number;
  ms: number;
  predictions: number;
  head: string;
}

export default async function runBatchClient(task: BatchClientTask): Promise<BatchClientResult> {
  lowerThisThreadsPriority(task.nice);
  const lines = [task.features.join(',')];
  for (let i = 0; i < task.rows; i++) lines.push(`${i % 100},${i % 3 === 0 ? 1 : 0},${i % 7}`);
  const csv = `${lines.join('\n')}\n`;
  lines.length = 0;
  const bytes = Buffer.from(csv, 'utf8');
  task.port.postMessage('ready');
  await once(task.port, 'message');

  const startedAt = performance.now();
  let at = 0;
  // A stream, so the bench learns when the headers are out (the first pull) and can start A's flood only then:
  // the batch is one of A's requests, admitted before the flood spends A's burst.
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at === 0) task.port.postMessage('uploading');
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
  task.port.close();
  let commas = 0;
  let head = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (head.length < 300) head += bytes.toString('utf8', 0, 300);
    for (let at = bytes.indexOf(44); at >= 0; at = bytes.indexOf(44, at + 1)) commas++;
  }
  // One comma between predictions, one before "model", two inside it.
  return { status: res.status, ms: performance.now() - startedAt, predictions: res.status === 200 ? commas - 2 : 0, head };
}
