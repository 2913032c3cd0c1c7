/**
 * The global model: trained by the operator from the tenants that allowed
 * pooled training, each contributing its own dataset of the agreed name (read
 * through `withTenant`, one tenant at a time), with the tenant as a
 * categorical feature. Tenants are coded by their position among the members
 * sorted by id, so the artifact is a function of the members' rows only:
 * tenants that did not consent cannot change a byte of it.
 */
import type { Column, StoredValue } from '../data/column-types.js';
import type { DatasetService } from '../data/dataset-service.js';
import { errors, isAppError } from '../errors.js';
import { compilePredictor, deserializeModel, OBJECTIVE_NAMES, type ObjectiveName, resolveParams, type TrainingPool, type TrainParams } from '../gbdt/index.js';
import type { InvalidationBus } from '../serving/invalidation-bus.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { writeVerifiedArtifact } from './artifact-publish.js';
import { errorMetrics } from './error-metrics.js';
import { encodeStoredRows, planFeatures } from './feature-encoding.js';
import { GLOBAL_SCOPE, type GlobalMember, type GlobalModelStore, type GlobalVersionInfo, globalArtifactKey } from './global-model-store.js';
import type { FeatureSpec, ModelSpec } from './model-spec.js';
import { assertModelName, type ModelRegistry } from './model-registry.js';
import { concatSets, fingerprintRows, type MatrixSet, meanOf, splitRows } from './tabular-sets.js';
import { MIN_TRAINING_ROWS } from './validate-train-request.js';

/** The name of the tenant feature, first in every global model. */
export const TENANT_FEATURE = '_tenant';

/** `POST /v1/admin/global-models` body. */
export interface GlobalTrainRequest {
  /** Model name; tenants without their own model of this name fall back to it. */
  name: string;
  /** Each consenting tenant contributes its own dataset of this name. */
  dataset: string;
  target: string;
  features?: string[];
  objective: ObjectiveName;
  params?: TrainParams;
}

/** A trained global version and the consenting tenants that could not contribute (and why). */
export interface GlobalTrainResult {
  version: GlobalVersionInfo;
  skipped: { tenantId: string; reason: string }[];
}

interface Contribution {
  tenantId: string;
  columns: Column[];
  rows: StoredValue[][];
}

/** What the service needs. */
export interface GlobalModelDeps {
  store: GlobalModelStore;
  datasets: DatasetService;
  pool: TrainingPool;
  artifacts: ArtifactStore;
  bus: InvalidationBus;
  registry: ModelRegistry;
}

/** Trains, describes and maintains global models. */
export class GlobalModelService {
  constructor(private readonly deps: GlobalModelDeps) {}

  get store(): GlobalModelStore {
    return this.deps.store;
  }

  /** Trains a new version from every consenting tenant's dataset `request.dataset`. */
  async train(request: GlobalTrainRequest): Promise<GlobalTrainResult> {
    assertModelName(request.name);
    if (!OBJECTIVE_NAMES.includes(request.objective)) throw errors.validation(`objective: one of ${OBJECTIVE_NAMES.join(', ')}`);
    resolveParams({ ...(request.params ?? {}), objective: request.objective });
    const { contributions, skipped } = await this.gather(request);
    if (contributions.length === 0) {
      throw errors.validation(`no consenting tenant has a usable dataset '${request.dataset}'`, { skipped });
    }
    const first = contributions[0]!;
    const names = request.features ?? first.columns.filter((c) => c.name !== request.target).map((c) => c.name);
    if (names.includes(TENANT_FEATURE)) throw errors.validation(`features: '${TENANT_FEATURE}' is reserved for the tenant feature`);
    const features = planFeatures(first.columns, names);
    const usable = contributions.filter((c) => {
      const problem = incompatibility(c.columns, features, request.target);
      if (problem) skipped.push({ tenantId: c.tenantId, reason: problem });
      return problem === null;
    });
    learnSharedCategories(features, usable);
    const spec: ModelSpec = { objective: request.objective, params: request.params ?? {}, dataset: request.dataset, target: request.target, features };

    const width = features.length + 1;
    const perMember = usable.map((c, code) => {
      const split = splitRows(c.columns, c.rows, request.target);
      const encode = (rows: StoredValue[][], y: number[]): MatrixSet => ({
        features: encodeStoredRows(features, c.columns, rows, () => [code], 1),
        labels: Float32Array.from(y),
        numFeatures: width,
        rows: rows.length,
      });
      return { c, code, split, train: encode(split.train, split.trainY), holdout: encode(split.holdout, split.holdoutY) };
    });
    const train = concatSets(perMember.map((m) => m.train), width);
    const holdout = concatSets(perMember.map((m) => m.holdout), width);
    if (train.rows < MIN_TRAINING_ROWS) throw errors.validation(`the consenting tenants have ${train.rows} training rows together; at least ${MIN_TRAINING_ROWS} are needed`);

    const started = performance.now();
    const params = { ...(request.params ?? {}), objective: request.objective };
    const result = await this.deps.pool.train(train, params, {
      ...(holdout.rows > 0 ? { validation: holdout } : {}),
      featureNames: [TENANT_FEATURE, ...features.map((f) => f.name)],
      featureKinds: ['categorical', ...features.map((f) => f.kind)],
    });
    const trainingMs = performance.now() - started;
    const predictor = compilePredictor(deserializeModel(result.artifact));
    const mean = meanOf(train.labels);

    const members: GlobalMember[] = [];
    for (const m of perMember) {
      const comparison: GlobalMember['comparison'] = {};
      if (m.holdout.rows > 0) {
        comparison.global = errorMetrics(m.holdout.labels, predictor.predictBatch(m.holdout.features));
        const own = await this.ownOnRows(m.c.tenantId, request.name, m.c.columns, m.split.holdout, m.holdout.labels);
        if (own) Object.assign(comparison, own);
      }
      members.push({ tenantId: m.c.tenantId, code: m.code, rows: m.train.rows + m.holdout.rows, comparison });
    }

    const version = await this.deps.store.reserveVersion(request.name, request.dataset, spec);
    const key = globalArtifactKey(request.name, version);
    const sha256 = await writeVerifiedArtifact(this.deps.artifacts, key, result.artifact);
    const info: Omit<GlobalVersionInfo, 'createdAt' | 'lineage'> = {
      model: request.name,
      version,
      spec,
      metrics: {
        ...(holdout.rows > 0
          ? {
              holdout: errorMetrics(holdout.labels, predictor.predictBatch(holdout.features)),
              baseline: { kind: 'training-mean' as const, ...errorMetrics(holdout.labels, new Float32Array(holdout.rows).fill(mean)) },
            }
          : {}),
        training: { rounds: result.metrics.rounds, numTrees: result.metrics.numTrees, bestIteration: result.metrics.bestIteration, metric: result.metrics.metric },
      },
      fingerprint: fingerprintRows(usable.flatMap((c) => c.rows)),
      memberCount: members.length,
      members,
      trainingMs,
      artifact: { key, sha256, sizeBytes: result.artifact.byteLength },
    };
    await this.deps.store.insertVersion(info);
    await this.deps.bus.publish({ type: 'model-version', tenantId: GLOBAL_SCOPE, model: request.name, version: String(version) });
    const described = await this.deps.store.describe(request.name);
    return { version: described.versions.find((v) => v.version === version)!, skipped };
  }

  /** Consent withdrawn: global models that learned from the tenant are stale until retrained (which excludes it). */
  async consentWithdrawn(tenantId: string): Promise<string[]> {
    return this.deps.store.markStaleFor(tenantId, 'a contributing tenant withdrew consent to pooled training; retrain to exclude its rows');
  }

  /** Purge store: the tenant's mentions in global-model tables go; models it contributed to become stale. */
  async purgeTenant(tenantId: string): Promise<Record<string, number>> {
    await this.deps.store.markStaleFor(tenantId, 'a contributing tenant was deleted; retrain to exclude its rows');
    return { global_model_members: await this.deps.store.deleteMember(tenantId) };
  }

  private async gather(request: GlobalTrainRequest): Promise<{ contributions: Contribution[]; skipped: { tenantId: string; reason: string }[] }> {
    const contributions: Contribution[] = [];
    const skipped: { tenantId: string; reason: string }[] = [];
    for (const tenantId of await this.deps.store.consentingTenants()) {
      try {
        // One tenant at a time, each inside its own withTenant: rows never mix before this point.
        const { dataset, rows } = await this.deps.datasets.readAll(tenantId, request.dataset);
        contributions.push({ tenantId, columns: dataset.columns, rows });
      } catch (err) {
        if (isAppError(err) && err.code === 'not_found') skipped.push({ tenantId, reason: `no dataset '${request.dataset}'` });
        else throw err;
      }
    }
    return { contributions, skipped };
  }

  /** The member's own production model on the same holdout rows, when it has a comparable one. */
  private async ownOnRows(tenantId: string, name: string, columns: Column[], rows: StoredValue[][], labels: Float32Array) {
    const { version } = await this.deps.registry.production(tenantId, name);
    if (!version || version.spec.forecast || version.origin !== 'trained') return null;
    if (version.spec.features.some((f) => !columns.some((c) => c.name === f.name))) return null;
    const bytes = await this.deps.artifacts.get(version.artifact.key);
    if (!bytes) return null;
    const own = compilePredictor(deserializeModel(bytes));
    const x = encodeStoredRows(version.spec.features, columns, rows);
    return { own: errorMetrics(labels, own.predictBatch(x)), ownVersion: version.version };
  }
}

/** Why a tenant's dataset cannot join (columns missing or of another kind), or null. */
function incompatibility(columns: readonly Column[], features: readonly FeatureSpec[], target: string): string | null {
  const t = columns.find((c) => c.name === target);
  if (!t || !['number', 'integer', 'boolean'].includes(t.type)) return `target '${target}' is missing or not numeric`;
  for (const f of features) {
    const c = columns.find((x) => x.name === f.name);
    if (!c) return `column '${f.name}' is missing`;
    if ((c.type === 'string') !== (f.kind === 'categorical') || (c.type === 'date') !== (f.type === 'date')) return `column '${f.name}' is ${c.type}, expected ${f.type}`;
  }
  return null;
}

/** Categories of string features: the sorted union over the members. */
function learnSharedCategories(features: FeatureSpec[], contributions: readonly Contribution[]): void {
  for (const f of features) {
    if (f.kind !== 'categorical') continue;
    const seen = new Set<string>();
    for (const c of contributions) {
      const i = c.columns.findIndex((x) => x.name === f.name);
      for (const r of c.rows) if (r[i] !== null && r[i] !== undefined) seen.add(String(r[i]));
    }
    f.categories = [...seen].sort();
  }
}
