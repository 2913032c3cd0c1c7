/**
 * Worker-thread entry for the RAG domain's CPU-heavy tasks (piscina runs the
 * exported function named in `run(task, { name })`). Results cross the thread
 * boundary by structured clone, which drops `AppError`'s class, so failures
 * travel as data and are re-thrown by `RagWorkerPool`.
 */
import { isAppError } from '../../errors.js';
import type { ErrorCode } from '../../errors.js';
import { hashEmbed } from '../embedding/hash-embedder.js';
import { type IndexBuildInput, buildVectorIndex } from '../index/create-vector-index.js';
import { type DocumentInput, parseDocument } from '../parsing/parse-document.js';
import type { ParsedDocument } from '../parsing/parsed-document.js';
import type { PdfParseOptions } from '../parsing/parse-pdf.js';

/** A task's outcome, safe to send between threads. */
export type WorkerResult<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };

/** Parses a document (see `parseDocument`). */
export async function parse(task: { input: DocumentInput; options?: PdfParseOptions }): Promise<WorkerResult<ParsedDocument>> {
  return settle(() => parseDocument(task.input, task.options));
}

/** Builds an index and returns its serialized bytes (see `buildVectorIndex`). */
export async function buildIndex(task: IndexBuildInput): Promise<WorkerResult<Uint8Array>> {
  return settle(async () => buildVectorIndex(task).serialize());
}

/** Hash-embeds texts into one flat array (`texts.length × dimension`), see `hashEmbed`. */
export async function embedHash(task: { texts: string[]; dimension: number }): Promise<WorkerResult<Float32Array>> {
  return settle(async () => {
    const out = new Float32Array(task.texts.length * task.dimension);
    task.texts.forEach((t, i) => {
      out.set(hashEmbed(t, task.dimension), i * task.dimension);
    });
    return out;
  });
}

async function settle<T>(work: () => Promise<T>): Promise<WorkerResult<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    if (isAppError(err)) return { ok: false, error: err.details ? { code: err.code, message: err.message, details: err.details } : { code: err.code, message: err.message } };
    return { ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } };
  }
}
