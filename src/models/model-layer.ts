/**
 * The model layer as the platform composes it: registry, training jobs and
 * their runner, global models, the predict seam. `createModelLayer` is the one
 * place that chooses the `ModelLoader` implementation.
 */
import type { DatasetService } from '../data/dataset-service.js';
import type { Db } from '../db/db.js';
import { featureNamesOf, importXgboostJson, serializeModel, createTrainingPool, type TrainingPool } from '../gbdt/index.js';
import type { InvalidationBus } from '../serving/invalidation-bus.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import type { TenantPurge } from '../tenancy/tenant-purge.js';
import type { TenantService } from '../tenancy/tenant-service.js';
import { sha256Hex } from './artifact-publish.js';
import { type BatchPredictionPool, createBatchPredictionPool } from './batch-prediction-pool.js';
import { GlobalModelService } from './global-model-service.js';
import { GlobalModelStore, type GlobalMember } from './global-model-store.js';
import { TrainingJobQueue } from './job-queue.js';
import { JobRunner } from './job-runner.js';
import { createMemoModelLoader, type ModelLoader, type ModelLoaderSources } from './model-loader.js';
import type { ModelDetail } from './model-registry.js';
import { ModelRegistry } from './model-registry.js';
import { runTrainingJob } from './model-trainer.js';
import type { ModelVersionInfo } from './model-version.js';
import { PredictionService, type PredictionLimits } from './prediction-service.js';
import { resolveServingTarget } from './serving-target.js';
import { TrainingJobs } from './training-jobs.js';

/** Settings of the model layer (see `Config`). */
export interface ModelLayerConfig {
  /** Training jobs this process runs at once; 0 = none (only `tenantml worker` processes train). */
  trainingWorkers: number;
  jobLeaseMs: number;
  jobPollMs: number;
  jobMaxAttempts: number;
  /** Threads that parse and predict streamed (CSV / NDJSON) batches; 0 = on the event loop. */
  batchPredictThreads: number;
}

/** What the layer is built from. */
export interface ModelLayerDeps {
  db: Db;
  datasets: DatasetService;
  artifacts: ArtifactStore;
  bus: InvalidationBus;
  tenants: TenantService;
  purge: TenantPurge;
  /** Builds the predict seam; default: the in-process memo loader. */
  createLoader?: (sources: ModelLoaderSources) => ModelLoader;
  /** Prediction quota and fair scheduler every predict and forecast runs under; absent, predictions run unlimited. */
  limits?: PredictionLimits;
  onError?: (error: unknown) => void;
}

/** How the global model of a name relates to one tenant. */
export interface GlobalModelView {
  version: number;
  stale: boolean;
  /** Present when the tenant contributed: both models' holdout error on its own rows. */
  onYourRows?: GlobalMember['comparison'];
}

/** The model layer. */
export interface ModelLayer {
  registry: ModelRegistry;
  jobs: TrainingJobs;
  queue: TrainingJobQueue;
  /** Runs jobs in this process (null when `trainingWorkers` is 0). */
  runner: JobRunner | null;
  loader: ModelLoader;
  predictions: PredictionService;
  /** The threads streamed batches run on (absent when `batchPredictThreads` is 0). */
  batches: BatchPredictionPool | undefined;
  global: GlobalModelService;
  pool: TrainingPool;
  /** A model with versions, aliases, policy, and the global model of the same name as seen by this tenant. */
  describe(tenantId: string, name: string): Promise<ModelDetail & { global: GlobalModelView | null }>;
  /** Publishes a model file saved by XGBoost as a new version (creating the model if needed). */
  importXgboost(tenantId: string, name: string, file: Uint8Array): Promise<ModelVersionInfo>;
  close(): Promise<void>;
}

/** Builds the model layer and starts its job runner when configured. */
export function createModelLayer(deps: ModelLayerDeps, config: ModelLayerConfig): ModelLayer {
  const pool = createTrainingPool({ threads: Math.max(1, config.trainingWorkers) });
  const registry = new ModelRegistry(deps.db, deps.artifacts, deps.bus);
  const queue = new TrainingJobQueue(deps.db, config.jobMaxAttempts);
  const store = new GlobalModelStore(deps.db);
  const global = new GlobalModelService({ store, datasets: deps.datasets, pool, artifacts: deps.artifacts, bus: deps.bus, registry });
  const resolveTarget = (t: string, n: string) => resolveServingTarget(registry, store, t, n);
  const loader = deps.createLoader ? deps.createLoader({ resolveTarget }) : createMemoModelLoader({ resolveTarget, artifacts: deps.artifacts, bus: deps.bus });
  const batches = config.batchPredictThreads > 0 ? createBatchPredictionPool({ threads: config.batchPredictThreads, artifacts: deps.artifacts }) : undefined;
  const predictions = new PredictionService(loader, deps.datasets, deps.limits, batches);
  const runner =
    config.trainingWorkers > 0
      ? new JobRunner(queue, (job, ctx) => runTrainingJob({ datasets: deps.datasets, pool, registry }, job, ctx), {
          slots: config.trainingWorkers,
          leaseMs: config.jobLeaseMs,
          pollMs: config.jobPollMs,
          ...(deps.onError ? { onError: deps.onError } : {}),
        })
      : null;
  const jobs = new TrainingJobs(deps.db, deps.datasets, queue, () => runner);

  deps.tenants.onChange(async ({ before, tenant }) => {
    if (before.allowPooledTraining && !tenant.allowPooledTraining) await global.consentWithdrawn(tenant.id);
  });
  deps.purge.registerStore({ name: 'global-models', purgeTenant: (tenantId) => global.purgeTenant(tenantId) });
  const unsubscribe = deps.bus.subscribe((event) => {
    if (event.type === 'tenant-purged') runner?.abortTenant(event.tenantId);
  });
  runner?.start();

  return {
    registry,
    jobs,
    queue,
    runner,
    loader,
    predictions,
    batches,
    global,
    pool,
    async describe(tenantId, name) {
      const detail = await registry.describe(tenantId, name);
      const view = await store.servingView(name, tenantId);
      return {
        ...detail,
        global: view && {
          version: view.version.version,
          stale: view.model.stale,
          ...(view.member ? { onYourRows: view.member.comparison } : {}),
        },
      };
    },
    async importXgboost(tenantId, name, file) {
      const model = importXgboostJson(file);
      const features = featureNamesOf(model).map(({ name: f, kind }) => ({ name: f, kind, type: kind === 'categorical' ? ('integer' as const) : ('number' as const) }));
      return registry.publish(tenantId, name, {
        jobId: null,
        origin: 'imported',
        spec: { objective: model.objective.name, params: {}, dataset: null, target: null, features },
        metrics: {},
        fingerprint: { rows: 0, sha256: sha256Hex(file) },
        lineage: [tenantId],
        trainingMs: 0,
        artifact: serializeModel(model),
      });
    },
    async close() {
      unsubscribe();
      await runner?.stop();
      loader.close();
      await pool.close();
      await batches?.close();
    },
  };
}
