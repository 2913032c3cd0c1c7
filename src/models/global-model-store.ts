/**
 * The operator tables of global models. Global models belong to no tenant, so
 * these tables have no tenant_id and the application role cannot reach them;
 * every statement here runs through `withSystem`. Members (the consenting
 * tenants a version learned from) are separate rows, so a purge can delete a
 * tenant's every mention without touching the model.
 */
import type { Db } from '../db/db.js';
import { errors } from '../errors.js';
import { isSafeKeySegment } from '../storage/artifact-key.js';
import type { DataFingerprint, ErrorMetrics, ModelSpec, VersionMetrics } from './model-spec.js';

/** Bus events about global models carry this in place of a tenant id (upper case: never a valid tenant id). */
export const GLOBAL_SCOPE = 'Global';

/**
 * Store key of a global model artifact: `global-models/<name>/<version>/model.tml`.
 * It lies outside `tenants/`, so no tenant prefix (and no tenant purge) can reach it.
 */
export function globalArtifactKey(name: string, version: number): string {
  if (!isSafeKeySegment(name)) throw errors.validation('name: 1-128 characters of letters, digits, _ . -, starting with a letter or digit');
  return `global-models/${name}/${version}/model.tml`;
}

/** How the global model and a member's own model did on that member's holdout rows. */
export interface MemberComparison {
  global?: ErrorMetrics;
  own?: ErrorMetrics;
  ownVersion?: number;
}

/** A consenting tenant a version learned from. */
export interface GlobalMember {
  tenantId: string;
  /** Its code in the model's categorical tenant feature. */
  code: number;
  rows: number;
  comparison: MemberComparison;
}

/** A global model version. */
export interface GlobalVersionInfo {
  model: string;
  version: number;
  createdAt: string;
  spec: ModelSpec;
  metrics: VersionMetrics;
  fingerprint: DataFingerprint;
  /** Tenants whose rows it learned from (purged tenants are no longer named). */
  lineage: string[];
  memberCount: number;
  members: GlobalMember[];
  trainingMs: number;
  artifact: { key: string; sha256: string; sizeBytes: number };
}

/** A global model and whether it must be retrained. */
export interface GlobalModelInfo {
  name: string;
  dataset: string;
  latestVersion: number | null;
  stale: boolean;
  staleReason: string | null;
  createdAt: string;
  updatedAt: string;
}

interface VersionRow {
  model_name: string;
  version: number;
  spec: ModelSpec;
  metrics: VersionMetrics;
  fingerprint: DataFingerprint;
  member_count: number;
  training_ms: number;
  artifact_key: string;
  artifact_sha256: string;
  size_bytes: number;
  created_at: Date | string;
}

interface ModelRow {
  name: string;
  dataset: string;
  latest: number | null;
  stale: boolean;
  stale_reason: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const MODEL_SQL = `select g.*, (select max(v.version) from global_model_versions v where v.model_name = g.name) as latest from global_models g`;

function modelFromRow(r: ModelRow): GlobalModelInfo {
  return {
    name: r.name,
    dataset: r.dataset,
    latestVersion: r.latest === null ? null : Number(r.latest),
    stale: r.stale,
    staleReason: r.stale_reason,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/** Operator-table access for global models. */
export class GlobalModelStore {
  constructor(private readonly db: Db) {}

  /** Tenants that allowed pooled training, by id (the tenants table is an operator table). */
  async consentingTenants(): Promise<string[]> {
    const res = await this.db.withSystem((tx) => tx.query<{ id: string }>('select id from tenants where allow_pooled_training order by id'));
    return res.rows.map((r) => r.id);
  }

  /** Creates or updates the model and reserves its next version number. */
  async reserveVersion(name: string, dataset: string, spec: ModelSpec): Promise<number> {
    return this.db.withSystem(async (tx) => {
      await tx.query(
        `insert into global_models (name, dataset, spec) values ($1, $2, $3)
         on conflict (name) do update set dataset = excluded.dataset, spec = excluded.spec, updated_at = now()`,
        [name, dataset, JSON.stringify(spec)],
      );
      const res = await tx.query<{ last_version: number }>('update global_models set last_version = last_version + 1 where name = $1 returning last_version', [name]);
      return Number(res.rows[0]!.last_version);
    });
  }

  /** Inserts a verified version with its members, and clears the stale flag. */
  async insertVersion(v: Omit<GlobalVersionInfo, 'createdAt' | 'lineage'>): Promise<void> {
    await this.db.withSystem(async (tx) => {
      await tx.query(
        `insert into global_model_versions (model_name, version, spec, metrics, fingerprint, member_count, training_ms, artifact_key, artifact_sha256, size_bytes)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [v.model, v.version, JSON.stringify(v.spec), JSON.stringify(v.metrics), JSON.stringify(v.fingerprint), v.memberCount, Math.round(v.trainingMs), v.artifact.key, v.artifact.sha256, v.artifact.sizeBytes],
      );
      for (const m of v.members) {
        await tx.query('insert into global_model_members (model_name, version, member_id, code, rows, comparison) values ($1, $2, $3, $4, $5, $6)', [
          v.model,
          v.version,
          m.tenantId,
          m.code,
          m.rows,
          JSON.stringify(m.comparison),
        ]);
      }
      await tx.query('update global_models set stale = false, stale_reason = null, updated_at = now() where name = $1', [v.model]);
    });
  }

  async list(): Promise<GlobalModelInfo[]> {
    const res = await this.db.withSystem((tx) => tx.query<ModelRow>(`${MODEL_SQL} order by g.name`));
    return res.rows.map(modelFromRow);
  }

  /** The model and all its versions with members; 404 when unknown. */
  async describe(name: string): Promise<GlobalModelInfo & { versions: GlobalVersionInfo[] }> {
    return this.db.withSystem(async (tx) => {
      const res = await tx.query<ModelRow>(`${MODEL_SQL} where g.name = $1`, [name]);
      if (!res.rows[0]) throw errors.notFound('global model', name);
      const versions = await tx.query<VersionRow>('select * from global_model_versions where model_name = $1 order by version', [name]);
      const members = await tx.query<{ version: number; member_id: string; code: number; rows: number; comparison: MemberComparison }>(
        'select version, member_id, code, rows, comparison from global_model_members where model_name = $1 order by version, code',
        [name],
      );
      return {
        ...modelFromRow(res.rows[0]),
        versions: versions.rows.map((v) => {
          const own = members.rows.filter((m) => Number(m.version) === Number(v.version));
          return versionFromRow(v, own.map((m) => ({ tenantId: m.member_id, code: Number(m.code), rows: Number(m.rows), comparison: m.comparison })));
        }),
      };
    });
  }

  /** The newest version of a global model as served to `tenantId`: with its tenant code when it is a member. */
  async servingView(name: string, tenantId: string): Promise<{ model: GlobalModelInfo; version: GlobalVersionInfo; member: GlobalMember | null } | null> {
    return this.db.withSystem(async (tx) => {
      const m = await tx.query<ModelRow>(`${MODEL_SQL} where g.name = $1`, [name]);
      const model = m.rows[0];
      if (!model || model.latest === null) return null;
      const v = await tx.query<VersionRow>('select * from global_model_versions where model_name = $1 and version = $2', [name, model.latest]);
      const mem = await tx.query<{ member_id: string; code: number; rows: number; comparison: MemberComparison }>(
        'select member_id, code, rows, comparison from global_model_members where model_name = $1 and version = $2 and member_id = $3',
        [name, model.latest, tenantId],
      );
      const row = mem.rows[0];
      const member = row ? { tenantId: row.member_id, code: Number(row.code), rows: Number(row.rows), comparison: row.comparison } : null;
      return { model: modelFromRow(model), version: versionFromRow(v.rows[0]!, member ? [member] : []), member };
    });
  }

  /** Flags every global model whose newest version learned from `tenantId`; returns their names. */
  async markStaleFor(tenantId: string, reason: string): Promise<string[]> {
    const res = await this.db.withSystem((tx) =>
      tx.query<{ name: string }>(
        `update global_models g set stale = true, stale_reason = $2, updated_at = now()
          where exists (select 1 from global_model_members m
                         where m.model_name = g.name and m.member_id = $1
                           and m.version = (select max(v.version) from global_model_versions v where v.model_name = g.name))
          returning g.name`,
        [tenantId, reason],
      ),
    );
    return res.rows.map((r) => r.name);
  }

  /** Deletes every mention of the tenant in global-model tables. */
  async deleteMember(tenantId: string): Promise<number> {
    return (await this.db.withSystem((tx) => tx.query('delete from global_model_members where member_id = $1', [tenantId]))).rowCount;
  }
}

function versionFromRow(v: VersionRow, members: GlobalMember[]): GlobalVersionInfo {
  return {
    model: v.model_name,
    version: Number(v.version),
    createdAt: new Date(v.created_at).toISOString(),
    spec: v.spec,
    metrics: v.metrics,
    fingerprint: v.fingerprint,
    lineage: members.map((m) => m.tenantId),
    memberCount: Number(v.member_count),
    members,
    trainingMs: Number(v.training_ms),
    artifact: { key: v.artifact_key, sha256: v.artifact_sha256, sizeBytes: Number(v.size_bytes) },
  };
}
