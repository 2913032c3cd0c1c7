/**
 * One streamed batch on a batch-prediction thread: the body's bytes arrive as
 * messages, are parsed and validated (the same readers and encoders as on the
 * event loop, so every error names the same line in the same words), encoded
 * into the float32 matrix, and predicted slice by slice when the event loop
 * says a slice may run (the fair scheduler stays on the event loop). Each
 * slice's JSON text stays here until the event loop takes it, transferred, as
 * the answer is written. Several sessions share a thread:
 * parsing yields every few rows, so a cancel or another session's slice gets in.
 */
import { AppError, errors } from '../errors.js';
import { predictorFromCompiled, type Predictor } from '../gbdt/index.js';
import { compilePayload, type ModelLoadResult, mismatch, runModelLoadTask } from '../serving/model-load-task.js';
import { sha256Hex } from './artifact-publish.js';
import { type BatchJob, type BatchModelSource, type BatchSessionSummary, type FromBatchThread, type ToBatchThread, toWire } from './batch-protocol.js';
import { predictionsText } from './prediction-json.js';
import type { RowMatrix } from './row-matrix.js';
import { encodeStreamedRows } from './streamed-rows.js';

/** The end of a MessagePort a session talks through. */
export interface BatchPort {
  on(event: 'message', listener: (message: ToBatchThread) => void): unknown;
  postMessage(message: FromBatchThread, transfer?: readonly ArrayBuffer[]): void;
  close(): void;
}

/** Models kept built per thread; a model is keyed by its content, so an entry is never stale. */
const MAX_CACHED_MODELS = 8;
const predictors = new Map<string, Predictor>();

/** Runs one batch until the event loop closes or cancels it; never throws (failures are messages). */
export function runBatchSession(job: BatchJob, port: BatchPort): Promise<BatchSessionSummary> {
  return new Promise((resolve) => {
    const text = new TextEncoder();
    let matrix: RowMatrix | undefined;
    /** Predicted slices' text by slice id, until taken. */
    const answers = new Map<number, Uint8Array>();
    let rowsEncoded = 0;
    let slicesPredicted = 0;
    let finished = false;
    const inbox = new ChunkInbox(() => port.postMessage({ type: 'ack' }));

    const finish = (cancelled: boolean) => {
      if (finished) return;
      finished = true;
      matrix = undefined;
      answers.clear();
      inbox.fail(errors.validation('the batch was cancelled'));
      port.close();
      resolve({ rowsEncoded, slicesPredicted, cancelled });
    };

    const predictSlice = (start: number, end: number, model: BatchModelSource | undefined): Uint8Array => {
      if (matrix === undefined) throw new AppError('internal', 'a slice was asked for before the rows were read');
      if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= matrix.rows))
        throw new AppError('internal', `slice [${start}, ${end}) is outside the ${matrix.rows} rows`);
      const predictor = predictorOf(job.modelKey, model);
      const values = predictor.predictBatch(matrix.data.subarray(start * matrix.width, end * matrix.width));
      slicesPredicted++;
      return text.encode(predictionsText(values, start > 0));
    };

    port.on('message', (message) => {
      if (finished) return;
      switch (message.type) {
        case 'chunk':
          inbox.push(message.bytes);
          break;
        case 'end':
          inbox.end();
          break;
        case 'predict':
          try {
            answers.set(message.id, predictSlice(message.start, message.end, message.model));
            port.postMessage({ type: 'predicted', id: message.id });
          } catch (error) {
            port.postMessage({ type: 'slice-failed', id: message.id, error: toWire(error) });
          }
          break;
        case 'take': {
          const text = answers.get(message.id);
          answers.delete(message.id);
          if (text === undefined) {
            const error = new AppError('internal', `slice ${message.id} was taken before it was predicted, or twice`);
            port.postMessage({ type: 'slice-failed', id: message.id, error: toWire(error) });
          } else port.postMessage({ type: 'slice', id: message.id, text }, [text.buffer as ArrayBuffer]);
          break;
        }
        case 'cancel':
          finish(true);
          break;
        case 'close':
          finish(false);
          break;
      }
    });

    void (async () => {
      try {
        const encoded = await encodeStreamedRows(job.features, job.format, inbox, job.maxBytes, job.prefix);
        if (finished) return;
        matrix = encoded;
        rowsEncoded = encoded.rows;
        port.postMessage({ type: 'encoded', rows: encoded.rows });
      } catch (error) {
        if (!finished) port.postMessage({ type: 'failed', error: toWire(error) });
      }
    })();
  });
}

/** The thread's predictor for a model, built from `source` the first time. */
function predictorOf(modelKey: string, source: BatchModelSource | undefined): Predictor {
  const cached = predictors.get(modelKey);
  if (cached !== undefined) {
    // Re-inserted: the map's order is the eviction order.
    predictors.delete(modelKey);
    predictors.set(modelKey, cached);
    return cached;
  }
  if (source === undefined) throw new AppError('internal', `model ${modelKey} was not sent to this thread`);
  const predictor = buildPredictor(source);
  predictors.set(modelKey, predictor);
  if (predictors.size > MAX_CACHED_MODELS) predictors.delete(predictors.keys().next().value!);
  return predictor;
}

/** Verifies and compiles a model exactly as the serving cache does, with the same errors. */
function buildPredictor(source: BatchModelSource): Predictor {
  const label = source.kind === 'sealed' ? source.task.label : source.label;
  let result: ModelLoadResult;
  if (source.kind === 'sealed') result = runModelLoadTask(source.task);
  else result = sha256Hex(source.payload) === source.expectedSha256 ? compilePayload(source.payload, label) : mismatch(label);
  if (result.ok) return predictorFromCompiled(result.compiled);
  if (result.code === 'not_found') throw errors.notFound('model version', label);
  const details = result.details as Record<string, unknown> | undefined;
  throw new AppError(result.code, result.message, {
    ...(details === undefined ? {} : { details }),
    ...(result.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: result.retryAfterSeconds }),
  });
}

/**
 * The body's chunks as the row readers consume them. Taking a chunk
 * acknowledges it, so the event loop keeps only a few chunks in flight and a
 * slow parse pushes back on the client instead of filling memory.
 */
class ChunkInbox implements AsyncIterable<Uint8Array> {
  private readonly queue: Uint8Array[] = [];
  private ended = false;
  private failure: AppError | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly onTaken: () => void) {}

  push(bytes: Uint8Array): void {
    this.queue.push(bytes);
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  fail(error: AppError): void {
    this.failure ??= error;
    this.queue.length = 0;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const next = this.queue.shift();
      if (next !== undefined) {
        this.onTaken();
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
