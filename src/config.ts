/**
 * Environment → typed, frozen configuration with embedded defaults. Parsed once
 * at start (never at import time) and passed down; every bad value is reported
 * by its variable name in one error.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { ModelLayerConfig } from './models/model-layer.js';
import { DEFAULT_MODEL_CACHE_BYTES, parseModelRef, type ServingConfig } from './serving/serving-config.js';
import type { ArtifactStoreConfig } from './storage/artifact-store.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  /** Embedded data: PGlite's folder, local artifacts. */
  dataDir: string;
  /** PostgreSQL server; undefined → PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  /** Redis server; undefined → shared state stays in process. */
  redisUrl: string | undefined;
  /** Prefix for every Redis key and channel, so deployments can share a server. */
  redisPrefix: string;
  /** Operator key; undefined → generated and printed once on first start. */
  adminKey: string | undefined;
  logLevel: LogLevel;
  /** Largest JSON body accepted, in bytes. */
  maxJsonBodyBytes: number;
  /** Largest streamed upload (CSV, NDJSON, files), in bytes. */
  maxUploadBytes: number;
  /** How long a cached API key stays valid without a re-read, in ms (revocation is immediate regardless). */
  authCacheTtlMs: number;
  /** Where model files and vector indexes live. */
  artifactStore: ArtifactStoreConfig;
  /** Inference and training tasks running at once on the fair scheduler. */
  computeSlots: number;
  /** A shared rate-limit decision slower than this (ms) switches the replica to local limits until Redis answers again. */
  rateLimitTimeoutMs: number;
  /** How often buffered usage counters (quotas, throttle counts) are written to the database, in ms. */
  usageFlushMs: number;
  /**
   * How far a serving process's old generation may grow past what a full collection kept, in percent, before the
   * next one (V8's heap growing factor; 0 leaves V8's own, ~90% on a small heap). See src/serving-process.ts.
   */
  heapGrowthPercent: number;
  /** Training jobs: how many this process runs, leases, polling, retries. */
  models: ModelLayerConfig;
  /** The model cache of the predict path: byte budget, policy, per-tenant share, warm list. */
  serving: ServingConfig;
  /** RAG: index cache, answer generation, embedding servers, ingestion. */
  rag: RagConfig;
}

/** Settings of the RAG domain. */
export interface RagConfig {
  /** Memory budget of the vector-index cache, in bytes (`TENANTML_INDEX_CACHE_BYTES`). */
  indexCacheBytes: number;
  /** Uploads larger than this are ingested by a background job (202). */
  syncIngestMaxBytes: number;
  /** Worker threads for parsing and index builds. */
  workerThreads: number;
  /** OpenAI-compatible chat endpoint for generated answers; undefined → extractive answers. */
  chat: { baseUrl: string; model: string; apiKey: string | undefined } | undefined;
  /** OpenAI-compatible embedding servers a namespace may use; the first is the default, the key is sent to each. */
  embeddings: { baseUrls: string[]; apiKey: string | undefined };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads variables, collecting every problem before failing. */
export class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string, fallback: string): string {
    const v = this.env[name];
    return v === undefined || v === '' ? fallback : v;
  }

  optional(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  /** Sizes like `64MB`, `512kb`, `1GiB` or plain bytes. */
  bytes(name: string, fallback: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const m = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i.exec(raw.trim());
    if (!m) {
      this.problems.push(`${name}=${JSON.stringify(raw)}: expected a size such as 1048576, 512KB or 64MB`);
      return fallback;
    }
    const unit = (m[2] ?? 'b').toLowerCase();
    const scale = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : 1;
    return Math.floor(Number(m[1]) * scale);
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
      return fallback;
    }
    return raw as T;
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) throw new Error('protocol');
      return raw;
    } catch {
      this.problems.push(`${name}: expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
      return undefined;
    }
  }
}

/**
 * The idle job poll on the embedded database. Its two statements run on the
 * event loop (PGlite is in process) and took 1–17 ms each there, twice a
 * second: stalls of every request in flight. Embedded, only this process queues
 * jobs, and it wakes its runner when it does; the poll is left to re-queue jobs
 * whose lease expired.
 */
const EMBEDDED_JOB_POLL_MS = 10_000;

/** Parses the environment into a frozen Config, or throws ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const r = new EnvReader(env);
  const adminKey = r.optional('TENANTML_ADMIN_KEY');
  if (adminKey !== undefined && adminKey.length < 16) r.problems.push('TENANTML_ADMIN_KEY: must be at least 16 characters');
  const dataDir = resolve(r.string('TENANTML_DATA_DIR', './.tenantml'));
  const redisUrl = r.url('REDIS_URL', ['redis:', 'rediss:']);
  const redisPrefix = r.string('TENANTML_REDIS_PREFIX', 'tenantml:');
  const databaseUrl = r.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const config: Config = {
    port: r.integer('PORT', 8080, 0, 65535),
    host: r.string('HOST', '127.0.0.1'),
    dataDir,
    databaseUrl,
    redisUrl,
    redisPrefix,
    adminKey,
    logLevel: r.oneOf<LogLevel>('LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    maxJsonBodyBytes: r.bytes('TENANTML_MAX_JSON_BODY', 16 * 1024 * 1024),
    maxUploadBytes: r.bytes('TENANTML_MAX_UPLOAD', 32 * 1024 * 1024),
    authCacheTtlMs: r.integer('TENANTML_AUTH_CACHE_TTL_MS', 60_000, 0, 3_600_000),
    artifactStore: readArtifactStore(r, dataDir, redisUrl, redisPrefix),
    computeSlots: r.integer('TENANTML_COMPUTE_SLOTS', availableParallelism(), 1, 1024),
    usageFlushMs: r.integer('TENANTML_USAGE_FLUSH_MS', 1000, 0, 60_000),
    heapGrowthPercent: r.integer('TENANTML_HEAP_GROWTH_PERCENT', 200, 0, 1000),
    rateLimitTimeoutMs: r.integer('TENANTML_RATE_LIMIT_TIMEOUT_MS', 100, 10, 10_000),
    models: {
      trainingWorkers: r.integer('TENANTML_TRAINING_WORKERS', 1, 0, 64),
      jobLeaseMs: r.integer('TENANTML_JOB_LEASE_MS', 30_000, 200, 3_600_000),
      jobPollMs: r.integer('TENANTML_JOB_POLL_MS', databaseUrl === undefined ? EMBEDDED_JOB_POLL_MS : 500, 10, 60_000),
      jobMaxAttempts: r.integer('TENANTML_JOB_MAX_ATTEMPTS', 3, 1, 100),
      batchPredictThreads: r.integer('TENANTML_BATCH_PREDICT_THREADS', 1, 0, 16),
    },
    serving: readServing(r),
    rag: readRag(r),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return Object.freeze(config);
}

function readServing(r: EnvReader): ServingConfig {
  const sharePercent = r.integer('TENANTML_MODEL_CACHE_TENANT_SHARE', 50, 1, 100);
  const warm: ServingConfig['warm'] = [];
  for (const item of (r.optional('TENANTML_MODEL_WARM') ?? '').split(/[\s,]+/).filter(Boolean)) {
    const ref = parseModelRef(item);
    if (ref) warm.push(ref);
    else r.problems.push(`TENANTML_MODEL_WARM: '${item}' is not <tenant>/<model>`);
  }
  return {
    cacheBytes: r.bytes('TENANTML_MODEL_CACHE_BYTES', DEFAULT_MODEL_CACHE_BYTES),
    tenantMaxShare: sharePercent / 100,
    policy: r.oneOf('TENANTML_MODEL_CACHE_POLICY', 'gdsf', ['gdsf', 'lru'] as const),
    loadThreads: r.integer('TENANTML_MODEL_LOAD_THREADS', 1, 0, 16),
    warm,
  };
}

function readRag(r: EnvReader): RagConfig {
  const chatBaseUrl = r.url('TENANTML_CHAT_BASE_URL', ['http:', 'https:']);
  const chatModel = r.optional('TENANTML_CHAT_MODEL');
  if (chatBaseUrl && !chatModel) r.problems.push('TENANTML_CHAT_BASE_URL needs TENANTML_CHAT_MODEL');
  const embeddingUrls = (r.optional('TENANTML_EMBEDDINGS_BASE_URLS') ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  for (const u of embeddingUrls) {
    if (!/^https?:\/\/[^\s]+$/.test(u)) r.problems.push(`TENANTML_EMBEDDINGS_BASE_URLS: '${u}' is not an http(s) URL`);
  }
  return {
    indexCacheBytes: r.bytes('TENANTML_INDEX_CACHE_BYTES', 512 * 1024 ** 2),
    syncIngestMaxBytes: r.bytes('TENANTML_RAG_SYNC_INGEST_MAX', 4 * 1024 ** 2),
    workerThreads: r.integer('TENANTML_RAG_WORKERS', 2, 1, 64),
    chat: chatBaseUrl && chatModel ? { baseUrl: chatBaseUrl, model: chatModel, apiKey: r.optional('TENANTML_CHAT_API_KEY') } : undefined,
    embeddings: { baseUrls: embeddingUrls, apiKey: r.optional('TENANTML_EMBEDDINGS_API_KEY') },
  };
}

function readArtifactStore(r: EnvReader, dataDir: string, redisUrl: string | undefined, redisPrefix: string): ArtifactStoreConfig {
  const kind = r.oneOf('TENANTML_ARTIFACT_STORE', 'folder', ['folder', 'redis', 's3'] as const);
  if (kind === 'redis') {
    if (!redisUrl) r.problems.push('TENANTML_ARTIFACT_STORE=redis needs REDIS_URL');
    return { kind, url: redisUrl ?? 'redis://127.0.0.1:6379', prefix: `${redisPrefix}artifacts:` };
  }
  if (kind === 's3') {
    const bucket = r.optional('TENANTML_S3_BUCKET');
    if (!bucket) r.problems.push('TENANTML_ARTIFACT_STORE=s3 needs TENANTML_S3_BUCKET');
    const optional = <K extends string>(key: K, name: string) => {
      const v = r.optional(name);
      return v === undefined ? {} : ({ [key]: v } as Record<K, string>);
    };
    return {
      kind,
      bucket: bucket ?? '',
      forcePathStyle: true,
      ...optional('endpoint', 'TENANTML_S3_ENDPOINT'),
      ...optional('region', 'TENANTML_S3_REGION'),
      ...optional('accessKeyId', 'TENANTML_S3_ACCESS_KEY_ID'),
      ...optional('secretAccessKey', 'TENANTML_S3_SECRET_ACCESS_KEY'),
      ...optional('prefix', 'TENANTML_S3_PREFIX'),
    };
  }
  return { kind, dir: resolve(r.string('TENANTML_ARTIFACT_DIR', join(dataDir, 'artifacts'))) };
}

/** The configuration, or undefined once why it is invalid has been written to stderr (the caller then exits with 2). */
export function loadConfigOrReport(env: Env = process.env): Readonly<Config> | undefined {
  try {
    return loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return undefined;
  }
}
