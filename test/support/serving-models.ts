/** Small trained models published straight through the registry, for serving tests and the serving bench. */
import { type GbdtModel, serializeModel, train } from '../../src/gbdt/index.js';
import type { ModelVersionInfo } from '../../src/models/model-version.js';
import type { Platform } from '../../src/platform.js';

/** Feature names of the models made here. */
export const FEATURES = ['x0', 'x1', 'x2'] as const;

/** A regression model of `trees` trees on synthetic data; `seed` changes what it learned. */
export function tinyModel(trees: number, seed = 1, rows = 300): GbdtModel {
  const F = FEATURES.length;
  const features = new Float32Array(rows * F);
  const labels = new Float32Array(rows);
  let s = seed * 9973 + 1;
  const rand = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < F; f++) features[r * F + f] = rand() * 10;
    labels[r] = seed * features[r * F]! + 2 * features[r * F + 1]! - features[r * F + 2]! + rand();
  }
  return train({ features, labels, numFeatures: F }, { numBoostRound: trees, maxDepth: 4, eta: 0.3, seed }, { featureNames: [...FEATURES] }).model;
}

/** Publishes `model` as a new version of the tenant's model `name` (production when it is the first). */
export function publishModel(platform: Platform, tenantId: string, name: string, model: GbdtModel): Promise<ModelVersionInfo> {
  return platform.models.registry.publish(tenantId, name, {
    jobId: null,
    origin: 'imported',
    spec: { objective: model.objective.name, params: {}, dataset: null, target: null, features: FEATURES.map((n) => ({ name: n, type: 'number' as const, kind: 'numeric' as const })) },
    metrics: {},
    fingerprint: { rows: 0, sha256: '' },
    lineage: [tenantId],
    trainingMs: 0,
    artifact: serializeModel(model),
  });
}
