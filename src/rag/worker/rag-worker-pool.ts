import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { AppError } from '../../errors.js';
import type { IndexBuildInput } from '../index/create-vector-index.js';
import type { DocumentInput } from '../parsing/parse-document.js';
import type { ParsedDocument } from '../parsing/parsed-document.js';
import type { PdfParseOptions } from '../parsing/parse-pdf.js';
import type { WorkerResult } from './rag-worker.js';

/** Sizing of the pool; defaults suit a small server (2 threads, 1 minute per task). */
export interface RagWorkerPoolOptions {
  maxThreads?: number;
  /** Tasks queued beyond this are rejected by piscina (default 1,000). */
  maxQueue?: number;
  /** Threads idle this long exit (default 30 s). */
  idleTimeoutMs?: number;
}

/** Parsing and index builds off the event loop. */
export interface RagWorkerPool {
  parse(input: DocumentInput, options?: PdfParseOptions): Promise<ParsedDocument>;
  /** Builds an index in a worker and returns its serialized bytes (load with `loadVectorIndex`). */
  buildIndex(input: IndexBuildInput): Promise<Uint8Array>;
  /** Hash-embeds texts in a worker (same vectors as the `hash` embedder), one array per text. */
  embedHash(texts: readonly string[], dimension: number): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/**
 * Starts the worker pool. Compiled, it runs `rag-worker.js`; from TypeScript
 * sources it runs `rag-worker-tsx.mjs`, which registers tsx inside the worker
 * (Node 20 does not pass `--import` loader hooks on to worker threads).
 */
export function createRagWorkerPool(options: RagWorkerPoolOptions = {}): RagWorkerPool {
  const fromSources = extname(fileURLToPath(import.meta.url)) === '.ts';
  const pool = new Piscina({
    filename: new URL(fromSources ? './rag-worker-tsx.mjs' : './rag-worker.js', import.meta.url).href,
    maxThreads: options.maxThreads ?? 2,
    minThreads: 0,
    maxQueue: options.maxQueue ?? 1000,
    idleTimeout: options.idleTimeoutMs ?? 30_000,
  });
  const unwrap = <T>(result: WorkerResult<T>): T => {
    if (result.ok) return result.value;
    throw new AppError(result.error.code, result.error.message, result.error.details ? { details: result.error.details } : {});
  };
  return {
    async parse(input, opts) {
      // Copy the bytes: transferring them would detach the caller's buffer.
      const task = { input: { ...input, bytes: input.bytes.slice() }, options: opts };
      return unwrap((await pool.run(task, { name: 'parse', transferList: [task.input.bytes.buffer] })) as WorkerResult<ParsedDocument>);
    },
    async buildIndex(input) {
      return unwrap((await pool.run(input, { name: 'buildIndex' })) as WorkerResult<Uint8Array>);
    },
    async embedHash(texts, dimension) {
      const flat = unwrap((await pool.run({ texts, dimension }, { name: 'embedHash' })) as WorkerResult<Float32Array>);
      return Array.from({ length: texts.length }, (_, i) => flat.subarray(i * dimension, (i + 1) * dimension));
    },
    async close() {
      await pool.destroy();
    },
  };
}
