/**
 * Artifact store on S3-compatible object storage. A PUT is atomic in S3
 * itself (the object appears whole or not at all). Timeouts are short and
 * retries few, so an unreachable endpoint turns into a quick 503.
 *
 * The AWS SDK is loaded with the first request, not with the server: it is
 * ~3 MB of the event loop's heap, which every major garbage collection of a
 * server on the folder or Redis store would otherwise mark.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { errors } from '../errors.js';
import { assertStoreKey, assertStorePrefix } from './artifact-key.js';
import type { ArtifactStore, S3StoreConfig } from './artifact-store.js';

interface S3ErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** A 404 for the object itself; a missing bucket is misconfiguration, reported as "down". */
function isMissingObject(error: unknown): boolean {
  const e = error as S3ErrorShape;
  if (e?.name === 'NoSuchBucket') return false;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

function down(op: string, error: unknown): Error {
  const e = error as S3ErrorShape;
  return errors.unavailable(`artifact store (s3) ${op} failed: ${e?.name ?? 'error'}: ${e?.message ?? String(error)}`, 1, error);
}

type S3Sdk = typeof import('@aws-sdk/client-s3');

/** Creates a raw (unsealed) store on an S3-compatible bucket. */
export function createS3ArtifactStore(config: S3StoreConfig): ArtifactStore {
  const bucket = config.bucket;
  const base = config.prefix ?? '';
  const timeoutMs = config.timeoutMs ?? 5000;
  let connected: Promise<{ sdk: S3Sdk; client: S3Client }> | undefined;
  /** The SDK and the client, made on first use. */
  const s3 = () =>
    (connected ??= import('@aws-sdk/client-s3').then((sdk) => {
      const client = new sdk.S3Client({
        region: config.region ?? 'us-east-1',
        forcePathStyle: config.forcePathStyle ?? true,
        maxAttempts: config.maxAttempts ?? 2,
        requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
        ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
        ...(config.accessKeyId === undefined || config.secretAccessKey === undefined
          ? {}
          : { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }),
      });
      return { sdk, client };
    }));
  const full = (key: string) => {
    assertStoreKey(key);
    return base + key;
  };

  async function list(prefix: string): Promise<string[]> {
    assertStorePrefix(prefix);
    const out: string[] = [];
    let token: string | undefined;
    const { sdk, client } = await s3();
    try {
      do {
        const page = await client.send(
          new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: base + prefix, ContinuationToken: token }),
        );
        for (const item of page.Contents ?? []) if (item.Key !== undefined) out.push(item.Key.slice(base.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw down('list', error);
    }
    return out.sort();
  }

  async function exists(key: string): Promise<boolean> {
    const k = full(key);
    const { sdk, client } = await s3();
    try {
      await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: k }));
      return true;
    } catch (error) {
      if (isMissingObject(error)) return false;
      throw down('head', error);
    }
  }

  return {
    kind: 's3',
    async put(key, bytes) {
      const k = full(key);
      const { sdk, client } = await s3();
      try {
        await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: k, Body: bytes, ContentLength: bytes.byteLength }));
      } catch (error) {
        throw down('write', error);
      }
    },
    async get(key) {
      const k = full(key);
      const { sdk, client } = await s3();
      try {
        const result = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: k }));
        if (result.Body === undefined) return new Uint8Array(0);
        return await result.Body.transformToByteArray();
      } catch (error) {
        if (isMissingObject(error)) return null;
        throw down('read', error);
      }
    },
    exists,
    async delete(key) {
      // S3 answers 204 whether or not the key existed; HEAD first to report it.
      const existed = await exists(key);
      const { sdk, client } = await s3();
      try {
        await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: full(key) }));
      } catch (error) {
        throw down('delete', error);
      }
      return existed;
    },
    async deletePrefix(prefix) {
      const keys = await list(prefix);
      const { sdk, client } = await s3();
      let count = 0;
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000).map((k) => ({ Key: base + k }));
        try {
          const result = await client.send(
            new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: false } }),
          );
          if (result.Errors !== undefined && result.Errors.length > 0) {
            const first = result.Errors[0];
            throw errors.unavailable(`artifact store (s3) could not delete ${result.Errors.length} objects: ${first?.Code ?? ''} ${first?.Message ?? ''}`);
          }
          count += result.Deleted?.length ?? batch.length;
        } catch (error) {
          if (error instanceof Error && error.name === 'AppError') throw error;
          throw down('delete prefix', error);
        }
      }
      return count;
    },
    list,
    async close() {
      // A client still being made is destroyed once made; an SDK that failed to load left nothing to close.
      const made = await connected?.catch(() => undefined);
      made?.client.destroy();
    },
  };
}
