/**
 * The artifact store: where model files and indexes live, addressed by keys
 * that carry the tenant (see `artifact-key.ts`). Backends: a local folder
 * (default), Redis and S3-compatible object storage.
 */
import type { Redis } from 'ioredis';
import { createFolderArtifactStore } from './folder-artifact-store.js';
import { createRedisArtifactStore } from './redis-artifact-store.js';
import { createS3ArtifactStore } from './s3-artifact-store.js';
import { withIntegrity } from './sealed-artifact-store.js';

/**
 * A key/bytes store. Contract for every backend:
 * - `put` is atomic: readers see the old object, or the whole new one, never a part;
 * - `get` returns null for a missing key and throws `unavailable` (503) when the
 *   backend cannot be reached, so "missing" and "down" are never confused;
 * - `list` and `deletePrefix` match keys by plain string prefix.
 */
export interface ArtifactStore {
  /** Which backend this is, for logs and the purge receipt. */
  readonly kind: 'folder' | 'redis' | 's3';
  put(key: string, bytes: Uint8Array): Promise<void>;
  /**
   * Like `put`, for data derived from other objects and rebuilt when lost
   * (compiled model layouts): a sealing store seals it with a CRC-32, not
   * sha256, since it only has to catch damage and is verified on every cold
   * read. `get` opens either.
   */
  putDerived?(key: string, bytes: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | null>;
  /**
   * The object exactly as stored, still in its integrity envelope and NOT
   * verified (only on stores that seal, see `withIntegrity`). For callers that
   * verify it elsewhere, e.g. on a worker thread with `openArtifact`.
   */
  getSealed?(key: string): Promise<Uint8Array | null>;
  /**
   * Like `get`, reading into memory the caller provides: `allocate(size)`
   * returns a buffer of exactly `size` bytes (folder backend only). Lets a
   * caller reuse the memory of objects it has dropped instead of allocating
   * megabytes per read. On a sealing store the result is the verified payload,
   * a view into that buffer.
   */
  getInto?(key: string, allocate: (size: number) => Uint8Array): Promise<Uint8Array | null>;
  /**
   * The local file holding the object (folder backend only): lets a worker
   * thread read it without a round trip through the event loop. On a sealing
   * store it is the sealed file, to be verified with `openArtifact`.
   */
  localPath?(key: string): string;
  exists(key: string): Promise<boolean>;
  /** Deletes one object; deleting a missing key is not an error. Returns whether it existed. */
  delete(key: string): Promise<boolean>;
  /** Deletes every object whose key starts with `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Keys starting with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Releases connections; the store is unusable afterwards. */
  close(): Promise<void>;
}

/** Local folder: objects are files under `dir`, written then renamed into place. */
export interface FolderStoreConfig {
  kind: 'folder';
  dir: string;
}

/** Redis: objects are string values holding the bytes, under `prefix`. */
export interface RedisStoreConfig {
  kind: 'redis';
  url?: string;
  /** Use this connection instead of opening one from `url` (it is not closed by `close()`). */
  client?: Redis;
  /** Prepended to every key, e.g. `tenantml:artifacts:`. */
  prefix?: string;
  /** Milliseconds before a connection attempt or command counts as "down". Default 2000. */
  timeoutMs?: number;
}

/** S3-compatible object storage (AWS S3, MinIO, Ceph, R2...). */
export interface S3StoreConfig {
  kind: 's3';
  bucket: string;
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style URLs (`endpoint/bucket/key`); needed by most self-hosted servers. Default true. */
  forcePathStyle?: boolean;
  /** Prepended to every key inside the bucket. */
  prefix?: string;
  /** Milliseconds before a request counts as "down". Default 5000. */
  timeoutMs?: number;
  /** Attempts per request including the first. Default 2. */
  maxAttempts?: number;
}

/** Configuration of the artifact store, one of the backends. */
export type ArtifactStoreConfig = FolderStoreConfig | RedisStoreConfig | S3StoreConfig;

/** Options that apply to any backend made by `createArtifactStore`. */
export interface ArtifactStoreOptions {
  /** Verify a sha256 envelope on every read (default true); see `artifact-seal.ts`. */
  integrity?: boolean;
}

/** Creates the configured backend, wrapped so every object is sealed and verified. */
export function createArtifactStore(config: ArtifactStoreConfig, options: ArtifactStoreOptions = {}): ArtifactStore {
  const raw = createRawArtifactStore(config);
  return options.integrity === false ? raw : withIntegrity(raw);
}

/** Creates the backend without the integrity envelope (tests, tools that read objects as-is). */
export function createRawArtifactStore(config: ArtifactStoreConfig): ArtifactStore {
  switch (config.kind) {
    case 'folder':
      return createFolderArtifactStore(config);
    case 'redis':
      return createRedisArtifactStore(config);
    case 's3':
      return createS3ArtifactStore(config);
  }
}
