/**
 * The predict path's seam: `ModelLoader.resolve(tenantId, name)` returns a
 * ready-to-use model. This implementation memoises resolutions and compiled
 * predictors in process and drops them on bus events; the serving layer can
 * replace it with a memory-budgeted cache by constructing another loader in
 * `createModelLayer` — callers only see this interface.
 */
import { errors } from '../errors.js';
import { compilePredictor, deserializeModel, type Predictor } from '../gbdt/index.js';
import type { InvalidationBus } from '../serving/invalidation-bus.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { GLOBAL_SCOPE } from './global-model-store.js';
import type { ServingTarget } from './serving-target.js';

/** A model ready to predict with. */
export interface ServableModel {
  target: ServingTarget;
  predictor: Predictor;
}

/** Resolves and loads the model that serves (tenant, name). */
export interface ModelLoader {
  resolve(tenantId: string, name: string): Promise<ServableModel>;
  /** Runs `fn` with the model held for its whole duration (a budgeted cache never evicts it meanwhile). */
  use<R>(tenantId: string, name: string, fn: (model: ServableModel) => R | Promise<R>): Promise<R>;
  /** The version that serves (tenant, name) now, without loading it. */
  target(tenantId: string, name: string): Promise<ServingTarget>;
  /** Runs `fn` with this target's model held (resolve it with `target`), so several calls use one version. */
  useTarget<R>(target: ServingTarget, fn: (model: ServableModel) => R | Promise<R>): Promise<R>;
  /** `target` answered from memory, or undefined when it would need a look-up (a loader may not implement it). */
  targetNow?(tenantId: string, name: string): ServingTarget | undefined;
  /** Whether `useTargetNow` may serve this target: its model is in memory, or can be loaded without waiting (a loader may not implement it). */
  servesNow?(target: ServingTarget): boolean;
  /** `useTarget` for a synchronous `fn` when the model is resident or loads without waiting, or undefined having run nothing. */
  useTargetNow?<R>(target: ServingTarget, fn: (model: ServableModel) => R): { value: R } | undefined;
  close(): void;
}

/** What `createModelLayer` hands a loader factory: how to find the version that serves a name. */
export interface ModelLoaderSources {
  resolveTarget: (tenantId: string, name: string) => Promise<ServingTarget>;
}

/** Options of the in-process memo loader. */
export interface MemoLoaderOptions {
  resolveTarget: (tenantId: string, name: string) => Promise<ServingTarget>;
  artifacts: ArtifactStore;
  bus: InvalidationBus;
}

/** Loads verified artifact bytes into a compiled predictor. */
export async function loadPredictor(artifacts: ArtifactStore, target: ServingTarget): Promise<Predictor> {
  const bytes = await artifacts.get(target.artifactKey);
  if (bytes === null) throw errors.notFound('model', target.name);
  return compilePredictor(deserializeModel(bytes));
}

/** A loader that memoises in process (unbounded: one entry per served version). */
export function createMemoModelLoader(options: MemoLoaderOptions): ModelLoader {
  const targets = new Map<string, Promise<ServingTarget>>();
  const predictors = new Map<string, Promise<Predictor>>();
  const targetKey = (tenantId: string, name: string) => `${tenantId}\u0000${name}`;
  const unsubscribe = options.bus.subscribe((event) => {
    if (event.type === 'resync') {
      targets.clear();
      return;
    }
    if (event.type === 'model-version' || event.type === 'alias-changed') {
      if (event.tenantId === GLOBAL_SCOPE) {
        for (const k of targets.keys()) if (k.endsWith(`\u0000${event.model}`)) targets.delete(k);
      } else targets.delete(targetKey(event.tenantId, event.model));
    } else if (event.type === 'tenant-purged') {
      for (const k of targets.keys()) if (k.startsWith(`${event.tenantId}\u0000`)) targets.delete(k);
    }
  });
  const memo = <T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> => {
    let p = map.get(key);
    if (!p) {
      p = load();
      map.set(key, p);
      // Failures are never cached: the next call tries again.
      p.catch(() => {
        if (map.get(key) === p) map.delete(key);
      });
    }
    return p;
  };
  const target = (tenantId: string, name: string) => memo(targets, targetKey(tenantId, name), () => options.resolveTarget(tenantId, name));
  // Keyed by content digest too: a deleted and re-created model may reuse a version number.
  const load = async (t: ServingTarget): Promise<ServableModel> => ({
    target: t,
    predictor: await memo(predictors, `${t.artifactKey}#${t.artifactSha256}`, () => loadPredictor(options.artifacts, t)),
  });
  const resolve = async (tenantId: string, name: string): Promise<ServableModel> => load(await target(tenantId, name));
  return {
    resolve,
    target,
    use: async (tenantId, name, fn) => fn(await resolve(tenantId, name)),
    useTarget: async (t, fn) => fn(await load(t)),
    close() {
      unsubscribe();
      targets.clear();
      predictors.clear();
    },
  };
}
