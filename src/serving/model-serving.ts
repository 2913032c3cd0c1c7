/**
 * The model multiplexer as the predict path's `ModelLoader`: (tenant, name)
 * resolves through the memoised registry pointer (`TargetMemo`, no database on
 * a hit), and the compiled predictor comes from the byte-budgeted `ModelCache`
 * keyed by (scope, model, version) — scope is the tenant, or `Global` for a
 * global model every tenant may fall back to. A prediction runs with its entry
 * pinned, so it is never evicted under a running request.
 *
 * Every load reads the artifact through the sealed store (sha256 envelope) and
 * also compares the payload's digest with the one the registry recorded, so a
 * replaced object is refused, not served. Missing → 404, store down → 503 with
 * Retry-After, corrupt → 500 naming the model; nothing failed is cached.
 */
import { AppError, errors } from '../errors.js';
import { type CompiledForest, decodeCompiledForest, predictorFromCompiled, type Predictor } from '../gbdt/index.js';
import { compiledLayoutKey, putCompiledLayout, sha256Hex } from '../models/artifact-publish.js';
import { GLOBAL_SCOPE } from '../models/global-model-store.js';
import type { ModelLoader, ModelLoaderSources, ServableModel } from '../models/model-loader.js';
import type { ModelVersionInfo } from '../models/model-version.js';
import type { ServingTarget } from '../models/serving-target.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { BufferPool } from '../storage/buffer-pool.js';
import { connectModelCacheToBus } from './cache-invalidation.js';
import type { InvalidationBus } from './invalidation-bus.js';
import { type LoadedModel, ModelCache, type ModelKey } from './model-cache.js';
import type { ModelCacheEvent } from './model-cache-stats.js';
import type { ServingConfig, ModelRef } from './serving-config.js';
import type { ServingMetrics } from './serving-metrics.js';
import { createModelLoadPool } from './model-load-pool.js';
import { compilePayload, mismatch, readLayoutFile } from './model-load-task.js';
import { TargetMemo } from './target-memo.js';

/** A cache entry: the compiled predictor and the digest of the artifact it came from. */
export interface LoadedPredictor {
  predictor: Predictor;
  sha256: string;
  /** The pooled buffer the predictor's arrays view: back to the pool when the cache drops the entry. */
  memory?: ArrayBuffer;
  /** Handed out without a lease (`resolve`): its memory is never reused. */
  escaped?: boolean;
}

/** Bytes of dropped models' layout buffers kept for reuse: a quarter of the cache budget, within these bounds. */
const MIN_POOLED_LAYOUT_BYTES = 4 * 2 ** 20;
const MAX_POOLED_LAYOUT_BYTES = 64 * 2 ** 20;

/** Where the multiplexer finds versions: the serving version of a name, or one exact version. */
export interface ModelServingSources extends ModelLoaderSources {
  resolveVersion: (tenantId: string, name: string, version: number) => Promise<ServingTarget>;
}

/** What `createModelServing` is built from. */
export interface ModelServingOptions {
  sources: ModelServingSources;
  artifacts: ArtifactStore;
  bus: InvalidationBus;
  config: Omit<ServingConfig, 'warm'>;
  /** Built from the cache's snapshot; see `createServingMetrics`. */
  metrics?: (snapshot: () => ReturnType<ModelCache<LoadedPredictor>['snapshot']>) => ServingMetrics;
}

/** The cache-backed loader, plus what the v2 and admin routes need. */
export interface ModelServing extends ModelLoader {
  readonly cache: ModelCache<LoadedPredictor>;
  /** The pool cold loads read compiled layouts into: free bytes, and how many reads reused a buffer or allocated one. */
  layoutBuffers(): ReturnType<BufferPool['stats']>;
  /** Runs `fn` with this target's model pinned (resolve it with `target` / `versionTarget`). */
  useTarget<R>(target: ServingTarget, fn: (model: ServableModel) => R | Promise<R>): Promise<R>;
  /** Like `use`, for one exact version of the tenant's own model. */
  useVersion<R>(tenantId: string, name: string, version: number, fn: (model: ServableModel) => R | Promise<R>): Promise<R>;
  /** The version that serves (tenant, name), from the pointer cache; 404 when none. */
  target(tenantId: string, name: string): Promise<ServingTarget>;
  /** One exact version of the tenant's own model; 404 when missing. */
  versionTarget(tenantId: string, name: string, version: number): Promise<ServingTarget>;
  /** Loads the serving version of (tenant, name) into this replica's cache; returns whether it stayed resident. */
  load(tenantId: string, name: string): Promise<{ target: ServingTarget; resident: boolean }>;
  /** Listens to the cache's events (hits, misses, loads with their duration, evictions); returns the unsubscribe function. */
  onCacheEvent(listener: (event: ModelCacheEvent) => void): () => void;
  /** Loads models ahead of traffic; failures are returned, not thrown. */
  warm(refs: readonly ModelRef[]): Promise<{ loaded: number; failed: Array<{ ref: ModelRef; error: string }> }>;
}

// Targets are memoised (`TargetMemo`), so their keys are too: the predict path asks once per request.
const cacheKeys = new WeakMap<ServingTarget, ModelKey>();

/** The cache key of a target: global models are shared by every tenant that falls back to them. */
export function cacheKeyOf(target: ServingTarget): ModelKey {
  let key = cacheKeys.get(target);
  if (key === undefined) {
    key = Object.freeze({ tenantId: target.source === 'global' ? GLOBAL_SCOPE : target.tenantId, model: target.name, version: String(target.version) });
    cacheKeys.set(target, key);
  }
  return key;
}

/** The serving target of one exact version of a tenant's own model. */
export function ownVersionTarget(tenantId: string, info: ModelVersionInfo): ServingTarget {
  return {
    tenantId,
    name: info.model,
    source: 'tenant',
    version: info.version,
    artifactKey: info.artifact.key,
    artifactSha256: info.artifact.sha256,
    spec: info.spec,
    prefix: [],
  };
}

/** Builds the multiplexer and subscribes it to the bus. */
export function createModelServing(options: ModelServingOptions): ModelServing {
  const { sources, artifacts } = options;
  const memo = new TargetMemo();
  // The cache calls `load` synchronously inside `acquire` on a miss (and the
  // loader it is given inside `acquireNow`), so the target being acquired is
  // handed over through this slot (see `acquire`, `useTargetNow`).
  let handoff: ServingTarget | undefined;
  let cache: ModelCache<LoadedPredictor> | undefined;
  const metrics = options.metrics?.(() => cache!.snapshot());
  const listeners = new Set<(event: ModelCacheEvent) => void>();
  const onEvent = (event: ModelCacheEvent) => {
    metrics?.onEvent(event);
    for (const listener of listeners) listener(event);
  };

  const pool = createModelLoadPool({ threads: options.config.loadThreads ?? 0 });
  // A miss reads its layout into the memory of a model the cache has dropped: no fresh external memory for the
  // collector to count (a major GC every ~200 misses otherwise) and no page faults during the read.
  const layoutMemory = new BufferPool(Math.min(MAX_POOLED_LAYOUT_BYTES, Math.max(MIN_POOLED_LAYOUT_BYTES, Math.floor(options.config.cacheBytes / 4))));
  const loadTarget = async (key: ModelKey) => {
    const target = handoff;
    handoff = undefined;
    if (target === undefined || !sameKey(cacheKeyOf(target), key)) throw new AppError('internal', `no target was handed over to load ${key.model}@${key.version}`);
    const label = `${target.name}@${target.version}`;
    const { compiled, fromLayout, memory } = await loadLayout(target, label);
    // Published before compiled layouts existed, or the layout was lost: store it for the next load.
    if (!fromLayout) void putCompiledLayout(artifacts, target.artifactKey, compiled, target.artifactSha256).catch(() => {});
    return entryOf(target, compiled, memory);
  };

  // On the folder store a sound compiled layout is one synchronous read (see `loadLayout`): a cold single-row request
  // then takes the same synchronous path as a hit, with no promise, queue entry or abort signal of its own.
  const loadsLayoutsNow = artifacts.localPath !== undefined && artifacts.getSealed !== undefined;
  /** The folder store's compiled layout of the target, in pooled memory, if it is sound and made from this very artifact. */
  const readLocalLayout = (target: ServingTarget) =>
    readLayoutFile(artifacts.localPath!(compiledLayoutKey(target.artifactKey)), target.artifactSha256, layoutMemory);
  /** The handed-over target's entry from its local compiled layout, read now; undefined when there is no sound one (`loadTarget` then decides). */
  const loadNow = (key: ModelKey): LoadedModel<LoadedPredictor> | undefined => {
    const target = handoff;
    if (!loadsLayoutsNow || target === undefined || !sameKey(cacheKeyOf(target), key)) return undefined;
    const stored = readLocalLayout(target);
    return stored === undefined ? undefined : entryOf(target, stored, stored.buffer);
  };

  /** The target's compiled layout: the stored one if it is sound and made from this very artifact, else compiled from the artifact. */
  const loadLayout = async (target: ServingTarget, label: string): Promise<{ compiled: CompiledForest; fromLayout: boolean; memory?: ArrayBuffer }> => {
    const { artifactKey: key, artifactSha256: expectedSha256 } = target;
    // The compiled layout published next to the artifact: no parse, no compile (a fraction of a millisecond). On the
    // folder store, one synchronous read on the event loop: an async read is four thread-pool round trips, each waiting
    // its turn behind requests, and a load thread measured slower too on two cores (cold-load p50 3.8 ms, not 0.35 ms).
    if (loadsLayoutsNow) {
      const stored = readLocalLayout(target);
      if (stored !== undefined) return { compiled: stored, fromLayout: true, memory: stored.buffer };
    } else {
      const stored = await readCompiledLayout(target);
      if (stored !== undefined) return { compiled: stored, fromLayout: true };
    }
    if (artifacts.localPath !== undefined && pool.threads > 0) {
      // Folder store: the load thread reads the artifact itself, so a load costs the event loop one message, not four fs round trips.
      try {
        return { compiled: await pool.load({ path: artifacts.localPath(key), key, expectedSha256, label }), fromLayout: false };
      } catch (error) {
        if (error instanceof AppError && error.code === 'not_found') throw errors.notFound('model version', label);
        throw error;
      }
    }
    if (artifacts.getSealed !== undefined) {
      // One sha256 pass, off the event loop: the worker verifies the envelope and compares its digest with the registry's.
      const sealed = await artifacts.getSealed(key); // down → unavailable
      if (sealed === null) throw errors.notFound('model version', label);
      return { compiled: await pool.load({ sealed, key, expectedSha256, label }), fromLayout: false };
    }
    // A store without the envelope: the registry's digest is the only check.
    const bytes = await artifacts.get(key);
    if (bytes === null) throw errors.notFound('model version', label);
    const result = sha256Hex(bytes) === expectedSha256 ? compilePayload(bytes, label) : mismatch(label);
    if (!result.ok) throw new AppError(result.code, result.message);
    return { compiled: result.compiled, fromLayout: false };
  };

  /** The target's compiled layout from a remote store, if it has a sound one made from this very artifact; else undefined. */
  const readCompiledLayout = async (target: ServingTarget): Promise<CompiledForest | undefined> => {
    try {
      const bytes = await artifacts.get(compiledLayoutKey(target.artifactKey)); // the envelope's checksum is verified here
      return bytes === null ? undefined : decodeCompiledForest(bytes, target.artifactSha256);
    } catch {
      return undefined; // missing, damaged or from another artifact: the artifact itself decides
    }
  };
  cache = new ModelCache<LoadedPredictor>({
    budgetBytes: options.config.cacheBytes,
    tenantMaxShare: options.config.tenantMaxShare,
    policy: options.config.policy,
    load: loadTarget,
    onEvent,
    onDrop: (value) => {
      if (value.memory !== undefined && value.escaped !== true) layoutMemory.give(value.memory);
    },
  });
  const models = cache;

  const acquire = (target: ServingTarget) => {
    handoff = target;
    const pending = models.acquire(cacheKeyOf(target));
    handoff = undefined;
    return pending;
  };

  const leaseFor = async (target: ServingTarget) => {
    let lease = await acquire(target);
    if (lease.value.sha256 !== target.artifactSha256) {
      // The version number was reused by a re-created model and this replica missed the event: reload it.
      lease.release();
      models.invalidate(cacheKeyOf(target));
      lease = await acquire(target);
      if (lease.value.sha256 !== target.artifactSha256) {
        lease.release();
        throw errors.unavailable(`model ${target.name}@${target.version} is being replaced; retry`);
      }
    }
    return lease;
  };

  const useTarget = async <R>(target: ServingTarget, fn: (model: ServableModel) => R | Promise<R>): Promise<R> => {
    const lease = await leaseFor(target);
    const started = performance.now();
    try {
      return await fn({ target, predictor: lease.value.predictor });
    } finally {
      lease.release();
      metrics?.onPredict(target.tenantId, performance.now() - started);
    }
  };

  const useTargetNow = <R>(target: ServingTarget, fn: (model: ServableModel) => R): { value: R } | undefined => {
    handoff = target;
    const lease = models.acquireNow(cacheKeyOf(target), loadNow);
    handoff = undefined;
    if (lease === undefined) return undefined;
    if (lease.value.sha256 !== target.artifactSha256) {
      lease.release(); // a reused version number: `useTarget` reloads it
      return undefined;
    }
    const started = performance.now();
    try {
      return { value: fn({ target, predictor: lease.value.predictor }) };
    } finally {
      lease.release();
      metrics?.onPredict(target.tenantId, performance.now() - started);
    }
  };

  const target = (tenantId: string, name: string) => memo.get(tenantId, name, undefined, () => sources.resolveTarget(tenantId, name));
  const versionTarget = (tenantId: string, name: string, version: number) =>
    memo.get(tenantId, name, version, () => sources.resolveVersion(tenantId, name, version));

  const unsubscribeMemo = options.bus.subscribe((event) => memo.apply(event));
  const unsubscribeCache = connectModelCacheToBus(options.bus, models);

  return {
    cache: models,
    layoutBuffers: () => layoutMemory.stats(),
    async resolve(tenantId, name) {
      const t = await target(tenantId, name);
      const lease = await leaseFor(t);
      // The predictor outlives the lease here, so its memory must never go to another model.
      lease.value.escaped = true;
      lease.release();
      return { target: t, predictor: lease.value.predictor };
    },
    use: async (tenantId, name, fn) => useTarget(await target(tenantId, name), fn),
    useTarget,
    useTargetNow,
    targetNow: (tenantId, name) => memo.peek(tenantId, name),
    useVersion: async (tenantId, name, version, fn) => useTarget(await versionTarget(tenantId, name, version), fn),
    target,
    versionTarget,
    servesNow: (t) => loadsLayoutsNow || models.has(cacheKeyOf(t)),
    onCacheEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async load(tenantId, name) {
      const t = await target(tenantId, name);
      (await leaseFor(t)).release();
      return { target: t, resident: models.has(cacheKeyOf(t)) };
    },
    async warm(refs) {
      const failed: Array<{ ref: ModelRef; error: string }> = [];
      let loaded = 0;
      for (const ref of refs) {
        try {
          await this.load(ref.tenantId, ref.model);
          loaded++;
        } catch (error) {
          failed.push({ ref, error: (error as Error).message });
        }
      }
      return { loaded, failed };
    },
    close() {
      void pool.close().catch(() => {});
      unsubscribeMemo();
      unsubscribeCache();
      memo.clear();
      models.clear();
    },
  };
}

/** A cache entry for `compiled`, counted at the compiled predictor's size. */
function entryOf(target: ServingTarget, compiled: CompiledForest, memory: ArrayBuffer | undefined): LoadedModel<LoadedPredictor> {
  // The array walker: as fast as generated code for single rows of 100 depth-6 trees, a third of its memory
  // and 3x faster to build (measured, see README). It keeps nothing of the parsed model, so its size is the entry's.
  const predictor = predictorFromCompiled(compiled);
  return { value: { predictor, sha256: target.artifactSha256, ...(memory === undefined ? {} : { memory }) }, sizeBytes: predictor.sizeBytes };
}

function sameKey(a: ModelKey, b: ModelKey): boolean {
  return a.tenantId === b.tenantId && a.model === b.model && a.version === b.version;
}
