/** An `ArtifactStore` decorator that seals bytes on `put` and verifies them on `get`. */
import type { ArtifactStore } from './artifact-store.js';
import { openArtifact, type SealChecksum, sealArtifact } from './artifact-seal.js';

/** Wraps a raw backend so a corrupt object is a clear error, never a wrong prediction; `checksum` is what `put` seals with (reads open any). */
export function withIntegrity(inner: ArtifactStore, checksum: SealChecksum = 'sha256'): ArtifactStore {
  const open = (key: string, sealed: Uint8Array | null) => (sealed === null ? null : openArtifact(sealed, key));
  return {
    kind: inner.kind,
    put: (key, bytes) => inner.put(key, sealArtifact(bytes, checksum)),
    putDerived: (key, bytes) => inner.put(key, sealArtifact(bytes, 'crc32')),
    get: async (key) => open(key, await inner.get(key)),
    getSealed: (key) => inner.get(key),
    ...(inner.getInto === undefined
      ? {}
      : {
          getInto: async (key: string, allocate: (size: number) => Uint8Array) => open(key, await inner.getInto!(key, allocate)),
        }),
    ...(inner.localPath === undefined ? {} : { localPath: inner.localPath }),
    exists: (key) => inner.exists(key),
    delete: (key) => inner.delete(key),
    deletePrefix: (prefix) => inner.deletePrefix(prefix),
    list: (prefix) => inner.list(prefix),
    close: () => inner.close(),
  };
}
