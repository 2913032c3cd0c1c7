/**
 * The Open Inference Protocol (KServe v2) and Triton's model-repository
 * extension over the multiplexer, for one tenant's models. Everything is
 * scoped to the caller's tenant: a model name only ever resolves inside it
 * (or to the global model it may fall back to), so another tenant's model is
 * a 404 like a missing one.
 *
 * Tensors carry the encoded features in the model's feature order: numbers as
 * they are, booleans as 1/0, dates as days since 1970-01-01, categorical
 * features as their category code (position in the model's sorted categories).
 * Inputs: one tensor `[rows, features]` (or `[features]`), or one tensor per
 * feature named after it, shape `[rows]` or `[rows, 1]`. Output: `predict`,
 * FP32, shape `[rows]`, on the response scale (as `/v1/.../predict`).
 */
import type { FairScheduler } from '../limits/fair-scheduler.js';
import { runPrediction } from '../limits/run-prediction.js';
import type { LimitedTenant, TenantQuotas } from '../limits/tenant-quotas.js';
import type { ModelRegistry } from '../models/model-registry.js';
import type { ServableModel } from '../models/model-loader.js';
import type { ServingTarget } from '../models/serving-target.js';
import type { InvalidationBus } from './invalidation-bus.js';
import type { ModelServing } from './model-serving.js';
import {
  buildInferResponse,
  buildModelMetadata,
  buildModelReady,
  type OipInferResponse,
  type OipTensorMetadata,
  parseInferRequest,
  predictionOutput,
  selectOutputs,
} from './oip.js';
import { buildRepositoryIndex, type RepositoryIndexEntry } from './triton-repository.js';

/** `platform` of the model metadata. */
export const OIP_PLATFORM = 'tenantml_gbdt';
/** The one output tensor. */
export const OIP_OUTPUT = 'predict';

/** Model metadata as `GET /v2/models/:name` returns it. */
export type OipModelMetadata = ReturnType<typeof buildModelMetadata>;

/** v2 operations for a tenant's models. */
export class OipService {
  constructor(
    private readonly serving: ModelServing,
    private readonly registry: ModelRegistry,
    private readonly bus: InvalidationBus,
    private readonly limits: { quotas: TenantQuotas; compute: FairScheduler },
  ) {}

  /** `$metadata_model_response` of the serving version, or of `version`. */
  async metadata(tenantId: string, name: string, version?: number): Promise<OipModelMetadata> {
    const target = version === undefined ? await this.serving.target(tenantId, name) : await this.serving.versionTarget(tenantId, name, version);
    const versions =
      target.source === 'tenant' ? (await this.registry.describe(tenantId, name)).versionList.map((v) => String(v.version)) : [String(target.version)];
    return buildModelMetadata({ name, versions, platform: OIP_PLATFORM, ...tensorsOf(target) });
  }

  /** `$ready_model_response`: every model that resolves is ready (it loads on demand); unknown → 404. */
  async ready(tenantId: string, name: string, version?: number): Promise<{ name: string; ready: boolean }> {
    if (version === undefined) await this.serving.target(tenantId, name);
    else await this.serving.versionTarget(tenantId, name, version);
    return buildModelReady(name, true);
  }

  /**
   * Runs `$inference_request` against the serving version, or `version`, under
   * the tenant's prediction quota and the fair scheduler (as `/v1` predict);
   * the model is pinned from before its rows queue until they are computed.
   */
  async infer(tenant: LimitedTenant, name: string, body: unknown, version?: number, signal?: AbortSignal): Promise<OipInferResponse> {
    const target = version === undefined ? await this.serving.target(tenant.tenantId, name) : await this.serving.versionTarget(tenant.tenantId, name, version);
    const request = parseInferRequest(body, { featureNames: target.spec.features.map((f) => f.name), precision: 'fp32' });
    const x = withPrefix(request.matrix as Float32Array, request.rows, request.columns, target.prefix);
    const width = target.prefix.length + request.columns;
    // Pinned before the rows queue, so a cold load never holds a compute slot.
    const predicted = await this.serving.useTarget(target, ({ predictor }: ServableModel) =>
      runPrediction(this.limits, { tenant, rows: request.rows, ...(signal ? { signal } : {}) }, (start, end) =>
        Array.from(predictor.predictBatch(x.subarray(start * width, end * width))),
      ),
    );
    const outputs = selectOutputs([predictionOutput(OIP_OUTPUT, Float32Array.from(predicted), request.rows)], request.requestedOutputs);
    return buildInferResponse({ modelName: name, modelVersion: String(target.version), id: request.id, outputs });
  }

  /** `$repository_index_response`: the tenant's own models; READY when resident in this replica's cache. */
  async repositoryIndex(tenantId: string, readyOnly: boolean): Promise<RepositoryIndexEntry[]> {
    const rows: Array<{ name: string; version?: string; state: 'READY' | 'UNAVAILABLE'; reason?: string }> = [];
    let cursor: string | undefined;
    do {
      const page = await this.registry.list(tenantId, 1000, cursor);
      for (const m of page.models) {
        const production = m.aliases.production;
        const resident = production !== undefined && this.serving.cache.has({ tenantId, model: m.name, version: String(production) });
        rows.push({
          name: m.name,
          ...(production === undefined ? {} : { version: String(production) }),
          state: resident ? 'READY' : 'UNAVAILABLE',
          ...(resident ? {} : { reason: production === undefined ? 'no production version' : 'not loaded on this replica; loads on the first request' }),
        });
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return buildRepositoryIndex(rows, { ready: readyOnly });
  }

  /** Loads the serving version into this replica's cache (Triton's explicit load). */
  async load(tenantId: string, name: string): Promise<{ resident: boolean }> {
    const { resident } = await this.serving.load(tenantId, name);
    return { resident };
  }

  /** Evicts every version of the tenant's own model from every replica's cache (404 when it has no such model). */
  async unload(tenantId: string, name: string): Promise<void> {
    await this.registry.describe(tenantId, name);
    await this.bus.publish({ type: 'model-version', tenantId, model: name });
  }
}

function tensorsOf(target: ServingTarget): { inputs: OipTensorMetadata[]; outputs: OipTensorMetadata[] } {
  return {
    inputs: [{ name: 'input__0', datatype: 'FP32', shape: [-1, target.spec.features.length] }],
    outputs: [{ name: OIP_OUTPUT, datatype: 'FP32', shape: [-1] }],
  };
}

/** Prepends the target's fixed values (a global model's tenant code) to every row. */
function withPrefix(matrix: Float32Array, rows: number, columns: number, prefix: readonly number[]): Float32Array {
  if (prefix.length === 0) return matrix;
  const width = prefix.length + columns;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < prefix.length; i++) out[r * width + i] = prefix[i]!;
    out.set(matrix.subarray(r * columns, (r + 1) * columns), r * width + prefix.length);
  }
  return out;
}
