/**
 * Which exact model answers a tenant's predict for a name: the tenant's own
 * production version, or the global model of that name, by the tenant's
 * policy (`own`: own, else global — the cold-start fallback; `global`: global,
 * else own; `best`: whichever had the lower holdout RMSE on the tenant's own
 * rows when the global model was trained, own when there is no comparison).
 */
import { errors } from '../errors.js';
import type { GlobalModelStore } from './global-model-store.js';
import type { ModelSource, ModelSpec } from './model-spec.js';
import type { ModelRegistry } from './model-registry.js';

/** A resolved, immutable model version to serve. */
export interface ServingTarget {
  tenantId: string;
  name: string;
  source: ModelSource;
  version: number;
  artifactKey: string;
  artifactSha256: string;
  spec: ModelSpec;
  /** Values placed before the spec's features (the global model's tenant code; NaN for a non-member). */
  prefix: number[];
}

/** Resolves (tenant, name) to the version to serve; 404 when there is none. */
export async function resolveServingTarget(registry: ModelRegistry, globals: GlobalModelStore, tenantId: string, name: string): Promise<ServingTarget> {
  const [{ version: own, policy }, global] = await Promise.all([registry.production(tenantId, name), globals.servingView(name, tenantId)]);
  const ownTarget: ServingTarget | null = own && {
    tenantId,
    name,
    source: 'tenant',
    version: own.version,
    artifactKey: own.artifact.key,
    artifactSha256: own.artifact.sha256,
    spec: own.spec,
    prefix: [],
  };
  const globalTarget: ServingTarget | null = global && {
    tenantId,
    name,
    source: 'global',
    version: global.version.version,
    artifactKey: global.version.artifact.key,
    artifactSha256: global.version.artifact.sha256,
    spec: global.version.spec,
    prefix: [global.member ? global.member.code : Number.NaN],
  };
  let chosen: ServingTarget | null;
  if (policy === 'global') chosen = globalTarget ?? ownTarget;
  else if (policy === 'best' && ownTarget && globalTarget) {
    const c = global?.member?.comparison;
    chosen = c?.global && c.own && c.global.rmse < c.own.rmse ? globalTarget : ownTarget;
  } else chosen = ownTarget ?? globalTarget;
  if (!chosen) throw errors.notFound('model', name);
  return chosen;
}
