/** An open-loop sender: requests leave on a fixed schedule whether or not earlier ones have answered. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher, Pool } from 'undici';

export interface OpenLoopOutcome {
  latencies: number[];
  statuses: number[];
  spanMs: number;
}

/** Sends `send()` at `rate` per second for `ms` — and on while `busy()` — open loop; resolves with every outcome. */
export async function openLoop(rate: number, ms: number, send: () => Promise<number>, busy: () => boolean = () => false): Promise<OpenLoopOutcome> {
  const latencies: number[] = [];
  const statuses: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.round((rate * ms) / 1000);
  let last = start;
  for (let i = 0; i < total || busy(); i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    // Always yield, so a sender running late cannot starve the responses it is waiting for.
    await (wait > 1 ? sleep(wait) : new Promise<void>((resolve) => setImmediate(resolve)));
    last = performance.now();
    const sentAt = last;
    pending.push(
      send().then(
        (status) => {
          latencies.push(performance.now() - sentAt);
          statuses.push(status);
        },
        () => {
          latencies.push(performance.now() - sentAt);
          statuses.push(0);
        },
      ),
    );
  }
  await Promise.all(pending);
  return { latencies, statuses, spanMs: last - start };
}

/**
 * One request through keep-alive connections of undici's `Pool`, resolving with its status (the body is read and
 * dropped). `fetch` would cost about half a millisecond of client CPU a request, which the measured latency or, for a
 * flood, the server's share of the machine would carry.
 */
export async function statusOf(pool: Pool, request: Dispatcher.RequestOptions): Promise<number> {
  const res = await pool.request(request);
  await res.body.dump();
  return res.statusCode;
}
