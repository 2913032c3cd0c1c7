/** A published model version as stored and as the API shows it. */
import type { DataFingerprint, ModelSpec, VersionMetrics } from './model-spec.js';

/** A version of a tenant's model. */
export interface ModelVersionInfo {
  model: string;
  version: number;
  origin: 'trained' | 'imported';
  /** Always `published`: a version exists only once its artifact is verified, and deleting it removes it. */
  status: 'published';
  /** The training job that produced it (null for imported files). */
  jobId: string | null;
  createdAt: string;
  spec: ModelSpec;
  metrics: VersionMetrics;
  fingerprint: DataFingerprint;
  /** Ids of the tenants whose rows it learned from (for a tenant model: that tenant only). */
  lineage: string[];
  trainingMs: number;
  artifact: { key: string; sha256: string; sizeBytes: number };
}

/** The `model_versions` row. */
export interface ModelVersionRow {
  model_name: string;
  version: number;
  job_id: string | null;
  origin: 'trained' | 'imported';
  spec: ModelSpec;
  metrics: VersionMetrics;
  fingerprint: DataFingerprint;
  lineage: string[];
  training_ms: number;
  artifact_key: string;
  artifact_sha256: string;
  size_bytes: number;
  created_at: Date | string;
}

/** Row → API shape. */
export function versionFromRow(r: ModelVersionRow): ModelVersionInfo {
  return {
    model: r.model_name,
    version: Number(r.version),
    origin: r.origin,
    status: 'published',
    jobId: r.job_id,
    createdAt: new Date(r.created_at).toISOString(),
    spec: r.spec,
    metrics: r.metrics,
    fingerprint: r.fingerprint,
    lineage: r.lineage,
    trainingMs: Number(r.training_ms),
    artifact: { key: r.artifact_key, sha256: r.artifact_sha256, sizeBytes: Number(r.size_bytes) },
  };
}

/** What a publisher hands the registry. */
export interface PublishInput {
  jobId: string | null;
  origin: 'trained' | 'imported';
  spec: ModelSpec;
  metrics: VersionMetrics;
  fingerprint: DataFingerprint;
  lineage: string[];
  trainingMs: number;
  /** Model artifact bytes (`serializeModel`). */
  artifact: Uint8Array;
}
