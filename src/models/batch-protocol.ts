/**
 * What the event loop and a batch-prediction thread say to each other about
 * one streamed batch (see `batch-session.ts` for the thread's side and
 * `batch-prediction-pool.ts` for the event loop's). Everything here crosses a
 * MessagePort, so it is plain data; byte buffers are transferred, not copied.
 */
import { AppError, type ErrorCode } from '../errors.js';
import type { StreamedFormat } from '../data/row-sources.js';
import type { ModelLoadTask } from '../serving/model-load-task.js';
import type { FeatureSpec } from './model-spec.js';

/** Where the thread gets the model: a load task (sealed bytes or the local file), or verified-by-digest payload bytes. */
export type BatchModelSource =
  | { kind: 'sealed'; task: ModelLoadTask }
  | { kind: 'payload'; payload: Uint8Array; expectedSha256: string; label: string };

/** One streamed batch: how to read its rows and which model predicts them. */
export interface BatchJob {
  format: StreamedFormat;
  features: FeatureSpec[];
  /** Values placed before the features of every row (a global model's tenant code). */
  prefix: number[];
  /** The body size limit, enforced as bytes arrive. */
  maxBytes: number;
  /** Identifies the model's content, so a thread builds each model once: `<artifact key>#<sha256>`. */
  modelKey: string;
}

/** Event loop → thread. */
export type ToBatchThread =
  | { type: 'chunk'; bytes: Uint8Array }
  | { type: 'end' }
  /** `model` comes with the first slice: the thread builds the predictor (or finds it built) only when rows are predicted. */
  | { type: 'predict'; id: number; start: number; end: number; model?: BatchModelSource }
  /** Send the text of a predicted slice (once; the thread then drops it). */
  | { type: 'take'; id: number }
  /** The client went away: stop parsing, drop everything. */
  | { type: 'cancel' }
  /** The answer is complete: drop everything. */
  | { type: 'close' };

/** Thread → event loop. */
export type FromBatchThread =
  /** One chunk was taken for parsing: the event loop may send another. */
  | { type: 'ack' }
  | { type: 'encoded'; rows: number }
  /** Reading the body failed (the first bad line, the size limit, ...). */
  | { type: 'failed'; error: WireError }
  /** The rows of slice `id` are predicted; the thread holds their text until it is taken. */
  | { type: 'predicted'; id: number }
  /** The JSON text of the predictions of rows [start, end), comma-led unless start is 0. */
  | { type: 'slice'; id: number; text: Uint8Array }
  /** Predicting slice `id`, or taking its text, failed. */
  | { type: 'slice-failed'; id: number; error: WireError };

/** What the thread's work came to, when it ends. */
export interface BatchSessionSummary {
  rowsEncoded: number;
  slicesPredicted: number;
  cancelled: boolean;
}

/** An error as it crosses the thread boundary. */
export interface WireError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
  retryAfterSeconds?: number;
}

/** Flattens an error for the wire: AppErrors keep code, message and details; anything else is internal. */
export function toWire(error: unknown): WireError {
  if (error instanceof AppError) {
    return {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    };
  }
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}

/** The AppError a wire error stands for, to throw on the event loop. */
export function fromWire(error: WireError): AppError {
  return new AppError(error.code, error.message, {
    ...(error.details === undefined ? {} : { details: error.details }),
    ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
  });
}
