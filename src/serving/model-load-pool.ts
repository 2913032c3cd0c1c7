/**
 * Where model loads run: verifying, parsing and laying out a 100-tree model
 * takes about a millisecond of CPU, and under cold traffic hundreds of loads a
 * second would queue behind requests on the event loop (and requests behind
 * them). With `threads > 0` they run on worker threads and the compiled
 * layout comes back as transferred buffers, so the event loop only reads the
 * bytes and wraps the result. `threads: 0` runs them inline (tests, tools).
 */
import { Piscina } from 'piscina';
import { AppError } from '../errors.js';
import type { CompiledForest } from '../gbdt/index.js';
import { type ModelLoadResult, type ModelLoadTask, runModelLoadTask } from './model-load-task.js';
import { siblingModuleUrl } from '../sibling-module.js';

/** Runs model load tasks. */
export interface ModelLoadPool {
  readonly threads: number;
  /** Verifies and compiles a sealed artifact; throws the AppError the load failed with. */
  load(task: ModelLoadTask): Promise<CompiledForest>;
  close(): Promise<void>;
}

/** Creates a pool of `threads` worker threads (0: inline on the caller's thread). */
export function createModelLoadPool(config: { threads: number; idleTimeoutMs?: number }): ModelLoadPool {
  const threads = Math.max(0, Math.floor(config.threads));
  if (threads === 0) {
    return { threads, load: async (task) => unwrap(runModelLoadTask(task)), close: async () => {} };
  }
  const piscina = new Piscina({
    filename: siblingModuleUrl(import.meta.url, 'model-load-worker'),
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: config.idleTimeoutMs ?? 60_000,
  });
  return {
    threads,
    // The sealed bytes are copied to the worker, not moved: the store may still hold them.
    load: async (task) => unwrap((await piscina.run(task)) as ModelLoadResult),
    close: () => piscina.close(),
  };
}

function unwrap(result: ModelLoadResult): CompiledForest {
  if (result.ok) return result.compiled;
  const details = result.details as Record<string, unknown> | undefined;
  throw new AppError(result.code, result.message, {
    ...(details === undefined ? {} : { details }),
    ...(result.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: result.retryAfterSeconds }),
  });
}
