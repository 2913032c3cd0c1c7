/**
 * Where large streamed predictions do their CPU work: CSV / NDJSON parsing,
 * validation, encoding, the tree walks and the JSON of the answer all run on
 * batch-prediction threads, so a million-row batch costs the event loop only
 * moving bytes — the body's chunks go to the thread (transferred when they own
 * their memory), the answer's text comes back the same way. The event loop
 * keeps the bookkeeping: quota, and the fair scheduler, which grants each
 * slice before the thread may predict it (see `PredictionService`).
 *
 * A thread runs several sessions at once (parsing yields every 1,000 rows), so
 * one tenant's batch never holds another's back from even being read.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { StreamedFormat } from '../data/row-sources.js';
import { AppError, errors } from '../errors.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { type BatchJob, type BatchModelSource, type BatchSessionSummary, type FromBatchThread, fromWire, type ToBatchThread } from './batch-protocol.js';
import type { ServingTarget } from './serving-target.js';
import { siblingModuleUrl } from '../sibling-module.js';

/** Body chunks sent to a thread and not yet taken for parsing. */
const CHUNKS_IN_FLIGHT = 8;
/** Sessions one thread runs at once. */
const SESSIONS_PER_THREAD = 16;

/** One streamed batch to predict. */
export interface BatchRequest {
  format: StreamedFormat;
  target: ServingTarget;
  maxBytes: number;
  /** Aborted when the client goes away: the thread stops and everything pending rejects with the reason. */
  signal?: AbortSignal;
}

/** A batch running on a thread. */
export interface BatchSession {
  /** Streams the body to the thread; resolves with the row count once every row is read and encoded, rejects with the first bad line's error. */
  encode(body: AsyncIterable<Buffer | Uint8Array | string>): Promise<number>;
  /**
   * Predicts rows [start, end) of the encoded body; resolves once they are predicted with the slice, whose text
   * the thread keeps until it is taken.
   */
  predict(start: number, end: number): Promise<PredictedSlice>;
  /**
   * The JSON text of a predicted slice (once), comma-led unless the slice starts at row 0. Taken one by one as the
   * answer is written, each slice's memory lives on the event loop only briefly: a million rows' ~18 MB of text,
   * held there until the last slice was predicted, outlived the young generation and set off major collections
   * of the event loop's heap (see `models/README.md`).
   */
  take(slice: PredictedSlice): Promise<Uint8Array>;
  /** Ends the session (idempotent); the thread drops the rows. */
  close(): void;
  /** Settles when the thread has stopped working on this batch. */
  readonly finished: Promise<BatchSessionSummary>;
}

/** A slice the thread has predicted and holds the text of. */
export interface PredictedSlice {
  readonly id: number;
}

/** Runs streamed batches on worker threads. */
export interface BatchPredictionPool {
  readonly threads: number;
  open(request: BatchRequest): BatchSession;
  /** Sessions whose thread work has not ended. */
  activeSessions(): number;
  close(): Promise<void>;
}

/** Creates the pool (`threads` ≥ 1). */
export function createBatchPredictionPool(config: { threads: number; artifacts: ArtifactStore }): BatchPredictionPool {
  const threads = Math.max(1, Math.floor(config.threads));
  const piscina = new Piscina({
    filename: siblingModuleUrl(import.meta.url, 'batch-prediction-worker'),
    // Started with the server and kept: a thread started for a batch loads and compiles its code on the spot, and
    // that burst, run by threads of normal priority, landed on real-time requests as 40–80 ms stalls.
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: SESSIONS_PER_THREAD,
  });
  let active = 0;
  return {
    threads,
    open(request) {
      const { port1, port2 } = new MessageChannel();
      const job: BatchJob = {
        format: request.format,
        features: request.target.spec.features,
        prefix: request.target.prefix,
        maxBytes: request.maxBytes,
        modelKey: `${request.target.artifactKey}#${request.target.artifactSha256}`,
      };
      active++;
      const finished = (piscina.run({ job, port: port2 }, { transferList: [port2] }) as Promise<BatchSessionSummary>).finally(() => active--);
      return new ThreadBatchSession(port1, finished, () => modelSourceOf(config.artifacts, request.target), request.signal);
    },
    activeSessions: () => active,
    close: () => piscina.close(),
  };
}

/** How the thread gets the model: the file itself on a local folder store, else the stored bytes (verified on the thread). */
async function modelSourceOf(artifacts: ArtifactStore, target: ServingTarget): Promise<BatchModelSource> {
  const label = `${target.name}@${target.version}`;
  const task = { key: target.artifactKey, expectedSha256: target.artifactSha256, label };
  if (artifacts.getSealed !== undefined) {
    if (artifacts.localPath !== undefined) return { kind: 'sealed', task: { ...task, path: artifacts.localPath(target.artifactKey) } };
    const sealed = await artifacts.getSealed(target.artifactKey); // down → unavailable
    if (sealed === null) throw errors.notFound('model version', label);
    return { kind: 'sealed', task: { ...task, sealed } };
  }
  // A store without the envelope: the registry's digest is the only check.
  const payload = await artifacts.get(target.artifactKey);
  if (payload === null) throw errors.notFound('model version', label);
  return { kind: 'payload', payload, expectedSha256: target.artifactSha256, label };
}

interface Pending<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** The event loop's side of one session. */
class ThreadBatchSession implements BatchSession {
  private credits = CHUNKS_IN_FLIGHT;
  private creditWaiter: (() => void) | undefined;
  private rows: Pending<number> | undefined;
  private readonly predicting = new Map<number, Pending<PredictedSlice>>();
  private readonly taking = new Map<number, Pending<Uint8Array>>();
  private nextSliceId = 0;
  private modelSent = false;
  /** Set once the session is over (closed, cancelled, or failed): why nothing more can happen. */
  private stopped: unknown;
  private readonly onAbort: () => void;

  constructor(
    private readonly port: MessagePort,
    readonly finished: Promise<BatchSessionSummary>,
    private readonly modelSource: () => Promise<BatchModelSource>,
    private readonly signal: AbortSignal | undefined,
  ) {
    port.on('message', (message: FromBatchThread) => this.receive(message));
    // The thread closes its end when it stops; anything still pending then will never be answered.
    port.once('close', () => this.stop(undefined, new AppError('internal', 'the batch-prediction thread stopped before answering')));
    finished.catch((error: unknown) => this.stop(undefined, new AppError('internal', `the batch-prediction thread failed: ${(error as Error).message}`)));
    this.onAbort = () => this.stop('cancel', signal!.reason);
    if (signal?.aborted) this.stop('cancel', signal.reason);
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  async encode(body: AsyncIterable<Buffer | Uint8Array | string>): Promise<number> {
    const rows = new Promise<number>((resolve, reject) => (this.rows = { resolve, reject }));
    // It may settle while the body is still being read; the caller sees the outcome when this returns.
    rows.catch(() => {});
    if (this.stopped !== undefined) this.rows?.reject(this.stopped);
    // Iterated by hand and never `return()`ed: ending a request stream early would reset the connection before the 400 is sent.
    const chunks = body[Symbol.asyncIterator]();
    try {
      for (;;) {
        while (this.credits === 0 && this.stopped === undefined && this.rows !== undefined) await new Promise<void>((r) => (this.creditWaiter = r));
        // Stopped, or the thread already answered (a bad line): the rest of the body is not needed.
        if (this.stopped !== undefined || this.rows === undefined) break;
        const next = await chunks.next();
        if (next.done) {
          if (this.stopped === undefined) this.send({ type: 'end' });
          break;
        }
        if (this.stopped !== undefined || this.rows === undefined) break;
        this.credits--;
        this.sendChunk(next.value);
      }
    } catch (error) {
      // The body itself failed (the connection broke): the thread has nothing more to read.
      this.stop('cancel', error);
    }
    return rows;
  }

  async predict(start: number, end: number): Promise<PredictedSlice> {
    if (this.stopped !== undefined) throw this.stopped;
    const model = this.modelSent ? undefined : await this.modelSource();
    this.modelSent = true;
    if (this.stopped !== undefined) throw this.stopped;
    const id = this.nextSliceId++;
    return new Promise<PredictedSlice>((resolve, reject) => {
      this.predicting.set(id, { resolve, reject });
      this.send({ type: 'predict', id, start, end, ...(model === undefined ? {} : { model }) });
    });
  }

  async take(slice: PredictedSlice): Promise<Uint8Array> {
    if (this.stopped !== undefined) throw this.stopped;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.taking.set(slice.id, { resolve, reject });
      this.send({ type: 'take', id: slice.id });
    });
  }

  close(): void {
    this.stop('close', new AppError('internal', 'the batch session is closed'));
  }

  private receive(message: FromBatchThread): void {
    switch (message.type) {
      case 'ack':
        this.credits++;
        this.wakeFeeder();
        break;
      case 'encoded':
        this.rows?.resolve(message.rows);
        this.rows = undefined;
        this.wakeFeeder();
        break;
      case 'failed':
        this.rows?.reject(fromWire(message.error));
        this.rows = undefined;
        this.wakeFeeder();
        break;
      case 'predicted':
        this.predicting.get(message.id)?.resolve({ id: message.id });
        this.predicting.delete(message.id);
        break;
      case 'slice':
        this.taking.get(message.id)?.resolve(message.text);
        this.taking.delete(message.id);
        break;
      case 'slice-failed': {
        const error = fromWire(message.error);
        for (const waiting of [this.predicting, this.taking]) {
          waiting.get(message.id)?.reject(error);
          waiting.delete(message.id);
        }
        break;
      }
    }
  }

  /** Ends the session once: tells the thread (`cancel` stops it mid-parse), and rejects whatever is still waiting with `reason`. */
  private stop(tell: 'cancel' | 'close' | undefined, reason: unknown): void {
    if (this.stopped !== undefined) return;
    this.stopped = reason;
    this.signal?.removeEventListener('abort', this.onAbort);
    if (tell !== undefined) this.send({ type: tell });
    this.rows?.reject(reason);
    this.rows = undefined;
    for (const waiting of [this.predicting, this.taking]) {
      for (const pending of waiting.values()) pending.reject(reason);
      waiting.clear();
    }
    this.wakeFeeder();
  }

  private wakeFeeder(): void {
    const wake = this.creditWaiter;
    this.creditWaiter = undefined;
    wake?.();
  }

  private send(message: ToBatchThread, transfer?: ArrayBuffer[]): void {
    try {
      this.port.postMessage(message, transfer);
    } catch {
      // The thread's end is already closed: it has stopped, and `close` settles what waits.
    }
  }

  /** Sends one body chunk, moving its memory when the chunk owns all of it, copying otherwise (pooled or shared buffers). */
  private sendChunk(chunk: Buffer | Uint8Array | string): void {
    if (typeof chunk === 'string') {
      const bytes = new TextEncoder().encode(chunk);
      this.port.postMessage({ type: 'chunk', bytes } satisfies ToBatchThread, [bytes.buffer as ArrayBuffer]);
      return;
    }
    const owns = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
    if (owns) {
      try {
        this.port.postMessage({ type: 'chunk', bytes: chunk } satisfies ToBatchThread, [chunk.buffer as ArrayBuffer]);
        return;
      } catch {
        // An untransferable buffer (Node's own): copied below.
      }
    }
    const copy = new Uint8Array(chunk);
    this.port.postMessage({ type: 'chunk', bytes: copy } satisfies ToBatchThread, [copy.buffer]);
  }
}
