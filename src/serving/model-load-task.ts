/**
 * One model load as a pure function, so it can run on a worker thread: open
 * the artifact's integrity envelope, check that its digest is the one the
 * registry recorded, parse, and lay the forest out for the array walker. The
 * payload is hashed once: the envelope's sha256 is verified against the bytes
 * and then compared (as text) with the registry's, instead of hashing twice.
 */
import { readFileSync } from 'node:fs';
import type { ErrorCode } from '../errors.js';
import { AppError } from '../errors.js';
import { compileForest, type CompiledForest, type DecodedForest, decodeCompiledForest, deserializeModel } from '../gbdt/index.js';
import { openArtifact, sealedDigestHex } from '../storage/artifact-seal.js';
import type { BufferPool } from '../storage/buffer-pool.js';
import { isMissing, readWholeSync } from '../storage/folder-artifact-store.js';

/** What a load needs: the sealed object as stored (or the local file holding it) and what the registry says about it. */
export interface ModelLoadTask {
  sealed?: Uint8Array;
  /** Read the sealed object from this file instead (folder store; read here, off the event loop). */
  path?: string;
  key: string;
  expectedSha256: string;
  /** `name@version`, for error messages. */
  label: string;
}

/** The compiled layout, or the error to rethrow on the calling thread. */
export type ModelLoadResult = { ok: true; compiled: CompiledForest } | { ok: false; code: ErrorCode; message: string; details?: unknown; retryAfterSeconds?: number };

/** Verifies and compiles one sealed model artifact; never throws. */
export function runModelLoadTask(task: ModelLoadTask): ModelLoadResult {
  let sealed: Uint8Array;
  if (task.sealed !== undefined) sealed = task.sealed;
  else {
    try {
      const buffer = readFileSync(task.path ?? '');
      // A plain view, as the store's `get` returns: Buffer's `slice` shares memory where Uint8Array's copies.
      sealed = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      if (isMissing(error)) return { ok: false, code: 'not_found', message: `${task.label} is missing` };
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      return { ok: false, code: 'unavailable', message: `artifact folder read failed (${code})`, retryAfterSeconds: 1 };
    }
  }
  try {
    // The cheap check first: an intact object with the wrong digest is refused without hashing it.
    if (sealedDigestHex(sealed) !== task.expectedSha256) {
      openArtifact(sealed, task.key); // a corrupt envelope reports itself as corrupt
      return mismatch(task.label);
    }
    const payload = openArtifact(sealed, task.key);
    return compilePayload(payload, task.label);
  } catch (error) {
    if (error instanceof AppError) return { ok: false, code: error.code, message: error.message, details: error.details };
    return { ok: false, code: 'internal', message: (error as Error).message };
  }
}

/**
 * The compiled layout in `path` if it is sound and made from the artifact
 * `sourceSha256`; else undefined. Its arrays view the bytes read, in one
 * buffer the layout owns: with `memory`, a pooled one (given back if the
 * layout is refused), otherwise a fresh one.
 */
export function readLayoutFile(path: string, sourceSha256: string, memory?: BufferPool): DecodedForest | undefined {
  let bytes: Uint8Array | undefined;
  try {
    bytes = readWholeSync(path, memory === undefined ? undefined : (size) => memory.take(size));
    const compiled = decodeCompiledForest(openArtifact(bytes, path), sourceSha256, { inPlace: true });
    // Copied after all (not aligned): the pooled buffer is free again.
    if (memory !== undefined && compiled.buffer !== bytes.buffer) memory.give(bytes.buffer as ArrayBuffer);
    return compiled;
  } catch {
    if (memory !== undefined && bytes !== undefined) memory.give(bytes.buffer as ArrayBuffer);
    return undefined;
  }
}

/** Parses and lays out a verified payload; a payload that does not parse is an internal error naming the model. */
export function compilePayload(payload: Uint8Array, label: string): ModelLoadResult {
  try {
    return { ok: true, compiled: compileForest(deserializeModel(payload)) };
  } catch (error) {
    return { ok: false, code: 'internal', message: `the artifact of model ${label} cannot be read: ${(error as Error).message}` };
  }
}

/** The refusal for an intact object that is not the registered one. */
export function mismatch(label: string): ModelLoadResult {
  return { ok: false, code: 'internal', message: `the artifact of model ${label} does not match its registered digest; refusing to serve it` };
}
