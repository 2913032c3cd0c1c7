/**
 * Writes a model artifact and proves it can be served before anything points
 * at it (invariant 5): put, read back through the sealed store (sha256
 * envelope), compare digests, deserialize. On any failure the object is
 * deleted and the publish fails. Next to it goes the compiled layout the
 * serving cache loads without parsing (`compiledLayoutKey`); it is derived
 * data, so failing to write it fails nothing: loads compile the artifact then.
 */
import { createHash } from 'node:crypto';
import { AppError, errors } from '../errors.js';
import { type CompiledForest, compileForest, deserializeModel, encodeCompiledForest } from '../gbdt/index.js';
import type { ArtifactStore } from '../storage/artifact-store.js';

/** Where the compiled layout of the model artifact at `artifactKey` is kept (same tenant prefix, so purge takes it). */
export function compiledLayoutKey(artifactKey: string): string {
  return `${artifactKey}.compiled`;
}

/** Stores the compiled layout of the artifact at `artifactKey`, whose sha256 is `artifactSha256` (CRC-sealed: derived data). */
export function putCompiledLayout(store: ArtifactStore, artifactKey: string, layout: CompiledForest, artifactSha256: string): Promise<void> {
  const bytes = encodeCompiledForest(layout, artifactSha256);
  const key = compiledLayoutKey(artifactKey);
  return store.putDerived === undefined ? store.put(key, bytes) : store.putDerived(key, bytes);
}

/** Deletes a model artifact and its compiled layout; returns whether the artifact existed. */
export async function deleteModelArtifact(store: ArtifactStore, key: string): Promise<boolean> {
  await store.delete(compiledLayoutKey(key)).catch(() => false);
  return store.delete(key);
}

/** Hex sha256 of bytes. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Puts `bytes` at `key`, re-reads and verifies them; returns their sha256. */
export async function writeVerifiedArtifact(store: ArtifactStore, key: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256Hex(bytes);
  await store.put(key, bytes);
  try {
    const back = await store.get(key);
    if (back === null) throw errors.unavailable(`artifact ${key} vanished right after it was written`);
    if (sha256Hex(back) !== digest) throw new AppError('internal', `artifact ${key} read back differs from what was written`);
    const model = deserializeModel(back);
    await putCompiledLayout(store, key, compileForest(model), digest).catch(() => {});
    return digest;
  } catch (err) {
    await deleteModelArtifact(store, key).catch(() => false);
    throw err;
  }
}
