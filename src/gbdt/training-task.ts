/**
 * The message format between the training pool and its worker threads, and
 * the function the worker runs. Errors travel back as data, so an AppError
 * (e.g. a validation error) keeps its code across the thread boundary.
 */
import type { MessagePort } from 'node:worker_threads';
import { AppError, type ErrorCode } from '../errors.js';
import { serializeModel } from './artifact.js';
import type { TrainParams } from './params.js';
import { type RoundProgress, train, type TrainingMetrics } from './train.js';
import type { FeatureKind } from './types.js';

/** A dataset as sent to a worker (float32 arrays, copied or transferred). */
export interface WireDataset {
  features: Float32Array;
  labels: Float32Array;
  weights?: Float32Array;
  numFeatures: number;
}

/** Sent on the progress port after the last round. */
export const PROGRESS_END = null;
/** What crosses the progress port. */
export type ProgressMessage = RoundProgress | typeof PROGRESS_END;

/** One training job for a worker. */
export interface TrainingTask {
  data: WireDataset;
  validation?: WireDataset;
  params: TrainParams;
  featureNames?: string[];
  featureKinds?: FeatureKind[];
  /** Receives a RoundProgress per round, then PROGRESS_END, when the caller asked for progress. */
  progressPort?: MessagePort;
  /** Shared flag; 1 means cancel. */
  cancelFlag: Int32Array;
}

/** What a worker sends back. */
export type TrainingTaskResult =
  | { ok: true; artifact: Uint8Array; metrics: TrainingMetrics }
  | { ok: false; error: { name: string; code?: ErrorCode; message: string; details?: Record<string, unknown> } };

/** Runs one task in the current thread. */
export function runTrainingTask(task: TrainingTask): TrainingTaskResult {
  try {
    const port = task.progressPort;
    const { model, metrics } = train(task.data, task.params, {
      ...(task.validation === undefined ? {} : { validation: task.validation }),
      ...(task.featureNames === undefined ? {} : { featureNames: task.featureNames }),
      ...(task.featureKinds === undefined ? {} : { featureKinds: task.featureKinds }),
      ...(port === undefined ? {} : { onRound: (p: RoundProgress) => port.postMessage(p) }),
      isCancelled: () => Atomics.load(task.cancelFlag, 0) === 1,
    });
    return { ok: true, artifact: serializeModel(model), metrics };
  } catch (e) {
    if (e instanceof AppError) {
      return { ok: false, error: { name: e.name, code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } };
    }
    const err = e as Error;
    return { ok: false, error: { name: err?.name ?? 'Error', message: err?.message ?? String(e) } };
  } finally {
    task.progressPort?.postMessage(PROGRESS_END);
    task.progressPort?.close();
  }
}
