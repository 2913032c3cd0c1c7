/**
 * A batch-prediction thread's first batch, run by the thread itself when it
 * starts: a synthetic CSV body through the same session code a tenant's batch
 * takes (parsing, encoding, building the predictor, the tree walks, the
 * answer's text), over a channel inside the thread.
 *
 * Why: a thread's first real batch otherwise ran on code not yet compiled and
 * a heap yet to grow. In the noisy-neighbour bench the first million-row batch
 * after a start took 1.9–3.4 s against 1.2–1.6 s for the next, and V8 compiles
 * the thread's hot code on its platform threads, which run at the event loop's
 * priority, so that first batch also cost real-time requests more. Here the
 * work happens at start, below the event loop's priority (the thread's), before
 * any tenant is waiting; a batch that arrives meanwhile runs beside it.
 */
import { MessageChannel } from 'node:worker_threads';
import { serializeModel, train } from '../gbdt/index.js';
import { sha256Hex } from './artifact-publish.js';
import type { BatchJob, FromBatchThread, ToBatchThread } from './batch-protocol.js';
import { type BatchPort, runBatchSession } from './batch-session.js';
import type { FeatureSpec } from './model-spec.js';

/** Rows of the synthetic batch: enough for the parser, the walk and the answer's text to reach optimised code. */
export const WARM_UP_ROWS = 100_000;
const SLICE_ROWS = 10_000;
const FEATURES = 4;

/** Runs the synthetic batch on this thread; resolves with the rows predicted once its answer was taken whole. */
export async function warmUpBatchThread(rows = WARM_UP_ROWS): Promise<number> {
  const names = Array.from({ length: FEATURES }, (_, f) => `f${f}`);
  const payload = serializeModel(syntheticModel(names));
  const features: FeatureSpec[] = names.map((name) => ({ name, type: 'number', kind: 'numeric' }));
  const sha256 = sha256Hex(payload);
  const modelKey = `warm-up#${sha256}`;
  const job: BatchJob = { format: 'csv', features, prefix: [], maxBytes: Number.MAX_SAFE_INTEGER, modelKey };
  const { port1: driver, port2: thread } = new MessageChannel();
  const session = runBatchSession(job, thread as unknown as BatchPort);
  const send = (message: ToBatchThread) => driver.postMessage(message);
  const answered = new Promise<number>((resolve, reject) => {
    let encoded = 0;
    let slices = 0;
    let taken = 0;
    driver.on('message', (message: FromBatchThread) => {
      switch (message.type) {
        case 'encoded':
          encoded = message.rows;
          slices = Math.ceil(encoded / SLICE_ROWS);
          for (let id = 0; id < slices; id++) {
            const start = id * SLICE_ROWS;
            const end = Math.min(encoded, start + SLICE_ROWS);
            send({ type: 'predict', id, start, end, ...(id === 0 ? { model: { kind: 'payload', payload, expectedSha256: sha256, label: 'warm-up' } } : {}) });
          }
          break;
        case 'predicted':
          send({ type: 'take', id: message.id });
          break;
        case 'slice':
          if (++taken === slices) {
            send({ type: 'close' });
            resolve(encoded);
          }
          break;
        case 'failed':
        case 'slice-failed':
          send({ type: 'cancel' });
          reject(new Error(`the warm-up batch failed: ${message.error.message}`));
          break;
        case 'ack':
          break;
      }
    });
  });
  for (const chunk of syntheticCsv(names, rows)) send({ type: 'chunk', bytes: chunk });
  send({ type: 'end' });
  const predicted = await answered;
  await session;
  driver.close();
  return predicted;
}

/** A small regression model over the synthetic features (trained in a few milliseconds). */
function syntheticModel(names: string[]) {
  const rows = 1_000;
  const x = new Float32Array(rows * FEATURES);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < FEATURES; f++) x[r * FEATURES + f] = ((r * (f + 3) * 7919) % 1000) / 10;
    y[r] = x[r * FEATURES]! - 2 * x[r * FEATURES + 1]! + (x[r * FEATURES + 2]! > 50 ? 10 : 0);
  }
  return train({ features: x, labels: y, numFeatures: FEATURES }, { numBoostRound: 20, maxDepth: 6, seed: 1 }, { featureNames: names }).model;
}

/** The body in 1 MiB chunks: a header line, then integers, decimals and negatives as clients send them. */
function* syntheticCsv(names: string[], rows: number): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  let text = `${names.join(',')}\n`;
  for (let r = 0; r < rows; r++) {
    text += `${r % 100},${(r % 997) / 8},${-(r % 13)},${(r * 31) % 1000}\n`;
    if (text.length >= 1 << 20) {
      yield encoder.encode(text);
      text = '';
    }
  }
  if (text.length > 0) yield encoder.encode(text);
}
