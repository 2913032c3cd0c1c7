/**
 * HTTP load generator for the benchmarks, run as a child process so it does
 * not share the server's event loop: keep-alive connections through an undici
 * `Pool`, targets picked from a weighted list, either a closed loop (each
 * connection sends its next request when the previous one answers: maximum
 * rate) or an open loop at a fixed rate (latency measured from the scheduled
 * send time, so a stalled server cannot hide its queueing). Each run starts
 * with an unrecorded warm-up at the same load (`warmupMs`), as wrk2 does: a
 * fresh generator process spends its first few hundred milliseconds compiling
 * its own code and opening connections, which is latency of the harness, not
 * of the server.
 *
 * Input: one JSON `LoadSpec` as argv[2]. Output: one JSON `LoadResult` on
 * stdout, and the message `'measuring'` to a parent with an IPC channel when
 * the warm-up ends, so the server side can start counting with it.
 */
import { Pool } from 'undici';

/** One kind of request. */
export interface LoadTarget {
  path: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

/** What to send, how hard and for how long. */
export interface LoadSpec {
  origin: string;
  targets: LoadTarget[];
  /** Relative weights of `targets` (default: equal). */
  weights?: number[];
  connections: number;
  durationMs: number;
  /** Load sent before the measured `durationMs` and not recorded (default 0). */
  warmupMs?: number;
  /** Requests per second for an open loop; absent: closed loop (as fast as answered). */
  rate?: number;
  seed?: number;
}

/** Latencies in ms and counts by status. */
export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
  errors: number;
  /** Requests sent per target index (for hit-rate bookkeeping). */
  perTarget: number[];
}

function picker(weights: number[], seed: number): () => number {
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf = new Float64Array(weights.length);
  let acc = 0;
  weights.forEach((w, i) => {
    acc += w / total;
    cdf[i] = acc;
  });
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const u = (s >>> 0) / 4294967296;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const pool = new Pool(spec.origin, { connections: spec.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const pick = picker(spec.weights ?? spec.targets.map(() => 1), spec.seed ?? 42);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const perTarget = new Array<number>(spec.targets.length).fill(0);
  let errors = 0;
  const started = performance.now();
  const measuredFrom = started + (spec.warmupMs ?? 0);
  setTimeout(() => process.send?.('measuring'), measuredFrom - started).unref();
  const end = measuredFrom + spec.durationMs;
  const send = async (from: number) => {
    const i = pick();
    const recorded = from >= measuredFrom;
    if (recorded) perTarget[i]!++;
    const t = spec.targets[i]!;
    try {
      const res = await pool.request({ path: t.path, method: t.method, headers: t.headers ?? {}, ...(t.body === undefined ? {} : { body: t.body }) });
      await res.body.dump();
      if (!recorded) return;
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      latencies.push(performance.now() - from);
    } catch {
      if (recorded) errors++;
    }
  };
  if (spec.rate === undefined) {
    await Promise.all(
      Array.from({ length: spec.connections }, async () => {
        while (performance.now() < end) await send(performance.now());
      }),
    );
  } else {
    const interval = 1000 / spec.rate;
    const inFlight = new Set<Promise<void>>();
    let sent = 0;
    while (performance.now() < end) {
      const now = performance.now();
      while (started + sent * interval <= now) {
        const p = send(started + sent * interval);
        inFlight.add(p);
        void p.then(() => inFlight.delete(p));
        sent++;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inFlight);
  }
  const seconds = (performance.now() - measuredFrom) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(p * latencies.length) - 1))] ?? Number.NaN;
  return { requests: latencies.length, seconds, rps: latencies.length / seconds, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1), statuses, errors, perTarget };
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
process.stdout.write(`${JSON.stringify(await run(spec))}\n`);
