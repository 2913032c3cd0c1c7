/**
 * A pool of worker threads that train models off the main thread, so a
 * server keeps answering requests while it trains many tenants' models.
 * Data goes in as float32 arrays (copied, or moved with `transfer: true`),
 * the artifact comes back as transferred bytes. Progress crosses the thread
 * on a MessagePort; cancellation is a shared flag the trainer polls every
 * round, so an aborted job stops within one round and the thread survives.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AppError } from '../errors.js';
import type { TrainParams } from './params.js';
import type { RoundProgress, TrainingMetrics } from './train.js';
import { PROGRESS_END, type ProgressMessage, type TrainingTask, type TrainingTaskResult, type WireDataset } from './training-task.js';
import type { Dataset, FeatureKind } from './types.js';
import { siblingModuleUrl } from '../sibling-module.js';

/** Pool settings. */
export interface TrainingPoolConfig {
  /** Worker threads (default: 1). */
  threads?: number;
  /** Idle threads exit after this long (default 30 s). */
  idleTimeoutMs?: number;
}

/** Per-job options. */
export interface PoolTrainOptions {
  validation?: Dataset;
  featureNames?: string[];
  featureKinds?: FeatureKind[];
  /** Called on the calling thread after each round. */
  onProgress?: (progress: RoundProgress) => void;
  /** Aborting rejects the promise with the signal's reason; a running job stops within one round. */
  signal?: AbortSignal;
  /** Move (detach) the caller's Float32Array buffers instead of copying them. */
  transfer?: boolean;
}

/** A trained model as artifact bytes plus its training metrics. */
export interface PoolTrainResult {
  artifact: Uint8Array;
  metrics: TrainingMetrics;
}

/** Trains models on worker threads. */
export interface TrainingPool {
  readonly threads: number;
  train(data: Dataset, params?: TrainParams, options?: PoolTrainOptions): Promise<PoolTrainResult>;
  /** Jobs queued or running. */
  pending(): number;
  /** Waits for running jobs, then stops the threads. */
  close(): Promise<void>;
}

/** Creates a training pool. */
export function createTrainingPool(config: TrainingPoolConfig = {}): TrainingPool {
  const threads = Math.max(1, Math.floor(config.threads ?? 1));
  const piscina = new Piscina({
    filename: siblingModuleUrl(import.meta.url, 'training-worker'),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: config.idleTimeoutMs ?? 30_000,
  });
  let inFlight = 0;
  return {
    threads,
    pending: () => inFlight,
    async train(data, params = {}, options = {}) {
      const { signal } = options;
      signal?.throwIfAborted();
      const transfer: ArrayBuffer[] = [];
      const wire = (d: Dataset): WireDataset => {
        const w: WireDataset = {
          features: asFloat32(d.features, options.transfer === true, transfer),
          labels: asFloat32(d.labels, options.transfer === true, transfer),
          numFeatures: d.numFeatures,
        };
        if (d.weights !== undefined) w.weights = asFloat32(d.weights, options.transfer === true, transfer);
        return w;
      };
      const cancelFlag = new Int32Array(new SharedArrayBuffer(4));
      const task: TrainingTask = { data: wire(data), params, cancelFlag };
      if (options.validation !== undefined) task.validation = wire(options.validation);
      if (options.featureNames !== undefined) task.featureNames = options.featureNames;
      if (options.featureKinds !== undefined) task.featureKinds = options.featureKinds;
      const transferList: (ArrayBuffer | MessagePort)[] = [...new Set(transfer)];
      let progress: { port: MessagePort; ended: Promise<void> } | undefined;
      if (options.onProgress !== undefined) {
        const { port1: port, port2 } = new MessageChannel();
        const onProgress = options.onProgress;
        // The result comes back on another port, so it can overtake the last rounds; the worker's
        // end-of-progress marker says every round has been delivered.
        const ended = new Promise<void>((resolve) => {
          port.on('message', (p: ProgressMessage) => (p === PROGRESS_END ? resolve() : onProgress(p)));
        });
        progress = { port, ended };
        task.progressPort = port2;
        transferList.push(port2);
      }
      const onAbort = (): void => {
        Atomics.store(cancelFlag, 0, 1);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      inFlight++;
      try {
        const result = (await piscina.run(task, { transferList })) as TrainingTaskResult;
        if (!result.ok) {
          if (signal?.aborted) throw signal.reason;
          const e = result.error;
          if (e.code !== undefined) throw new AppError(e.code, e.message, e.details === undefined ? {} : { details: e.details });
          const err = new Error(e.message);
          err.name = e.name;
          throw err;
        }
        return { artifact: result.artifact, metrics: result.metrics };
      } finally {
        inFlight--;
        signal?.removeEventListener('abort', onAbort);
        if (progress !== undefined) {
          // A thread that died never sends the marker; its rounds so far get a short grace period.
          await Promise.race([progress.ended, delay(1000, undefined, { ref: false })]);
          progress.port.close();
        }
      }
    },
    async close() {
      await piscina.close();
    },
  };
}

/** Float32 view of an input; with `move`, whole-buffer Float32Arrays are transferred instead of copied. */
function asFloat32(a: Dataset['features'], move: boolean, transfer: ArrayBuffer[]): Float32Array {
  if (a instanceof Float32Array) {
    if (move && a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) transfer.push(a.buffer);
    return a;
  }
  const copy = Float32Array.from(a);
  transfer.push(copy.buffer);
  return copy;
}
