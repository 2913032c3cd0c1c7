/**
 * The per-tenant model registry: models, immutable versions, aliases and
 * serving policies, every statement inside `withTenant`. A version becomes
 * visible only after its artifact is written and verified; publishing is
 * idempotent per training job (unique (tenant_id, job_id)); publish, promote
 * and delete announce themselves on the invalidation bus.
 */
import type { Db, Tx } from '../db/db.js';
import { errors } from '../errors.js';
import type { InvalidationBus } from '../serving/invalidation-bus.js';
import { artifactKey, isSafeKeySegment } from '../storage/artifact-key.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { deleteModelArtifact, writeVerifiedArtifact } from './artifact-publish.js';
import { type ModelVersionInfo, type ModelVersionRow, type PublishInput, versionFromRow } from './model-version.js';

/** The alias predict serves; the first version of a model gets it automatically. */
export const PRODUCTION_ALIAS = 'production';

/** Which model answers a predict for a name. */
export type ServingPolicy = 'own' | 'global' | 'best';
export const SERVING_POLICIES: readonly ServingPolicy[] = ['own', 'global', 'best'];

/** A model in the list. */
export interface ModelSummary {
  name: string;
  latestVersion: number | null;
  aliases: Record<string, number>;
  versions: number;
  createdAt: string;
  updatedAt: string;
}

/** A model with all its versions. */
export interface ModelDetail extends ModelSummary {
  policy: ServingPolicy;
  versionList: ModelVersionInfo[];
}

/** Throws a validation error unless `name` can be a model name (it becomes part of artifact keys). */
export function assertModelName(name: string, field = 'name'): void {
  if (!isSafeKeySegment(name)) throw errors.validation(`${field}: 1-128 characters of letters, digits, _ . -, starting with a letter or digit`);
}

/** Models and versions of tenants. */
export class ModelRegistry {
  constructor(
    private readonly db: Db,
    private readonly artifacts: ArtifactStore,
    private readonly bus: InvalidationBus,
  ) {}

  /** The version a job published, if any. */
  async versionForJob(tenantId: string, jobId: string): Promise<ModelVersionInfo | null> {
    const res = await this.db.withTenant(tenantId, (tx) => tx.query<ModelVersionRow>('select * from model_versions where job_id = $1', [jobId]));
    return res.rows[0] ? versionFromRow(res.rows[0]) : null;
  }

  /**
   * Publishes a new version: reserve a number, write and verify the artifact,
   * then insert the row (and the production alias for a first version) in one
   * transaction. A second publish of the same job returns the first version.
   */
  async publish(tenantId: string, name: string, input: PublishInput): Promise<ModelVersionInfo> {
    assertModelName(name);
    if (input.jobId !== null) {
      const existing = await this.versionForJob(tenantId, input.jobId);
      if (existing) return existing;
    }
    const version = await this.db.withTenant(tenantId, async (tx) => {
      await tx.query('insert into models (tenant_id, name) values ($1, $2) on conflict do nothing', [tenantId, name]);
      const res = await tx.query<{ last_version: number }>(
        'update models set last_version = last_version + 1, updated_at = now() where name = $1 returning last_version',
        [name],
      );
      return Number(res.rows[0]!.last_version);
    });
    const key = artifactKey({ tenantId, kind: 'models', name, version, file: 'model.tml' });
    const sha256 = await writeVerifiedArtifact(this.artifacts, key, input.artifact);
    const outcome = await this.db.withTenant(tenantId, async (tx) => {
      const res = await tx.query<ModelVersionRow>(
        `insert into model_versions (tenant_id, model_name, version, job_id, origin, spec, metrics, fingerprint, lineage, training_ms, artifact_key, artifact_sha256, size_bytes)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         on conflict (tenant_id, job_id) do nothing returning *`,
        [
          tenantId,
          name,
          version,
          input.jobId,
          input.origin,
          JSON.stringify(input.spec),
          JSON.stringify(input.metrics),
          JSON.stringify(input.fingerprint),
          JSON.stringify(input.lineage),
          Math.round(input.trainingMs),
          key,
          sha256,
          input.artifact.byteLength,
        ],
      );
      const row = res.rows[0];
      if (!row) return null;
      const alias = await tx.query(
        `insert into model_aliases (tenant_id, model_name, alias, version) values ($1, $2, $3, $4) on conflict do nothing`,
        [tenantId, name, PRODUCTION_ALIAS, version],
      );
      return { row, promoted: alias.rowCount > 0 };
    });
    if (outcome === null) {
      // The same job was published concurrently (a retried job whose first run was still alive).
      await deleteModelArtifact(this.artifacts, key).catch(() => false);
      const existing = await this.versionForJob(tenantId, input.jobId!);
      if (!existing) throw errors.conflict(`job '${input.jobId}' was published concurrently and then removed`);
      return existing;
    }
    await this.bus.publish({ type: 'model-version', tenantId, model: name, version: String(version) });
    if (outcome.promoted) await this.bus.publish({ type: 'alias-changed', tenantId, model: name, alias: PRODUCTION_ALIAS });
    return versionFromRow(outcome.row);
  }

  /** A page of the tenant's models, by name. */
  async list(tenantId: string, limit: number, cursor?: string): Promise<{ models: ModelSummary[]; nextCursor: string | null }> {
    return this.db.withTenant(tenantId, async (tx) => {
      const res = await tx.query<SummaryRow>(
        `${SUMMARY_SQL} where ($1::text is null or m.name > $1) order by m.name limit $2`,
        [cursor ?? null, limit + 1],
      );
      const models = res.rows.slice(0, limit).map(summaryFromRow);
      return { models, nextCursor: res.rows.length > limit ? (models.at(-1)?.name ?? null) : null };
    });
  }

  /** A model with its versions, aliases and policy; 404 when the tenant has no such model. */
  async describe(tenantId: string, name: string): Promise<ModelDetail> {
    return this.db.withTenant(tenantId, async (tx) => {
      const res = await tx.query<SummaryRow>(`${SUMMARY_SQL} where m.name = $1`, [name]);
      if (!res.rows[0]) throw errors.notFound('model', name);
      const versions = await tx.query<ModelVersionRow>('select * from model_versions where model_name = $1 order by version', [name]);
      return { ...summaryFromRow(res.rows[0]), policy: await policyOf(tx, name), versionList: versions.rows.map(versionFromRow) };
    });
  }

  /** One version; 404 when missing. */
  async getVersion(tenantId: string, name: string, version: number): Promise<ModelVersionInfo> {
    const res = await this.db.withTenant(tenantId, (tx) =>
      tx.query<ModelVersionRow>('select * from model_versions where model_name = $1 and version = $2', [name, version]),
    );
    if (!res.rows[0]) throw errors.notFound('model version', `${name}@${version}`);
    return versionFromRow(res.rows[0]);
  }

  /** The verified artifact bytes of a version. */
  async readArtifact(tenantId: string, name: string, version: number): Promise<Uint8Array> {
    const v = await this.getVersion(tenantId, name, version);
    const bytes = await this.artifacts.get(v.artifact.key);
    if (bytes === null) throw errors.notFound('model version', `${name}@${version}`);
    return bytes;
  }

  /** Points an alias (e.g. `production`) at a version: promote or roll back. */
  async setAlias(tenantId: string, name: string, alias: string, version: number): Promise<Record<string, number>> {
    if (!isSafeKeySegment(alias)) throw errors.validation('alias: 1-128 characters of letters, digits, _ . -');
    const aliases = await this.db.withTenant(tenantId, async (tx) => {
      const v = await tx.query('select 1 from model_versions where model_name = $1 and version = $2', [name, version]);
      if (v.rowCount === 0) {
        const m = await tx.query('select 1 from models where name = $1', [name]);
        throw m.rowCount === 0 ? errors.notFound('model', name) : errors.notFound('model version', `${name}@${version}`);
      }
      await tx.query(
        `insert into model_aliases (tenant_id, model_name, alias, version) values ($1, $2, $3, $4)
         on conflict (tenant_id, model_name, alias) do update set version = excluded.version, updated_at = now()`,
        [tenantId, name, alias, version],
      );
      return aliasesOf(tx, name);
    });
    await this.bus.publish({ type: 'alias-changed', tenantId, model: name, alias });
    return aliases;
  }

  /**
   * Deletes a version and its artifact. Aliases pointing at it move to the
   * newest remaining version (a rollback), or go when none remains.
   */
  async deleteVersion(tenantId: string, name: string, version: number): Promise<void> {
    const { key, moved } = await this.db.withTenant(tenantId, async (tx) => {
      const res = await tx.query<{ artifact_key: string }>(
        'select artifact_key from model_versions where model_name = $1 and version = $2 for update',
        [name, version],
      );
      const row = res.rows[0];
      if (!row) throw errors.notFound('model version', `${name}@${version}`);
      const pointing = await tx.query<{ alias: string }>('select alias from model_aliases where model_name = $1 and version = $2', [name, version]);
      await tx.query('delete from model_versions where model_name = $1 and version = $2', [name, version]);
      const newest = await tx.query<{ version: number }>('select max(version) as version from model_versions where model_name = $1', [name]);
      const next = newest.rows[0]?.version;
      if (next !== null && next !== undefined) {
        for (const { alias } of pointing.rows) {
          await tx.query('insert into model_aliases (tenant_id, model_name, alias, version) values ($1, $2, $3, $4)', [tenantId, name, alias, Number(next)]);
        }
      }
      return { key: row.artifact_key, moved: pointing.rows.map((r) => r.alias) };
    });
    await deleteModelArtifact(this.artifacts, key);
    await this.bus.publish({ type: 'model-version', tenantId, model: name, version: String(version) });
    for (const alias of moved) await this.bus.publish({ type: 'alias-changed', tenantId, model: name, alias });
  }

  /** Deletes a model with every version and artifact. */
  async deleteModel(tenantId: string, name: string): Promise<{ versions: number }> {
    const keys = await this.db.withTenant(tenantId, async (tx) => {
      const res = await tx.query<{ artifact_key: string }>('select artifact_key from model_versions where model_name = $1', [name]);
      const gone = await tx.query('delete from models where name = $1', [name]);
      if (gone.rowCount === 0) throw errors.notFound('model', name);
      return res.rows.map((r) => r.artifact_key);
    });
    for (const key of keys) await deleteModelArtifact(this.artifacts, key);
    await this.bus.publish({ type: 'model-version', tenantId, model: name });
    await this.bus.publish({ type: 'alias-changed', tenantId, model: name, alias: PRODUCTION_ALIAS });
    return { versions: keys.length };
  }

  /** Sets the serving policy of a model name (allowed before the tenant has a model of its own). */
  async setPolicy(tenantId: string, name: string, policy: ServingPolicy): Promise<void> {
    assertModelName(name);
    if (!SERVING_POLICIES.includes(policy)) throw errors.validation(`policy: one of ${SERVING_POLICIES.join(', ')}`);
    await this.db.withTenant(tenantId, (tx) =>
      tx.query(
        `insert into model_policies (tenant_id, model_name, policy) values ($1, $2, $3)
         on conflict (tenant_id, model_name) do update set policy = excluded.policy, updated_at = now()`,
        [tenantId, name, policy],
      ),
    );
    await this.bus.publish({ type: 'alias-changed', tenantId, model: name, alias: 'policy' });
  }

  /** The tenant's production version of `name` (null when it has none) and its serving policy. */
  async production(tenantId: string, name: string): Promise<{ version: ModelVersionInfo | null; policy: ServingPolicy }> {
    return this.db.withTenant(tenantId, async (tx) => {
      const res = await tx.query<ModelVersionRow>(
        `select v.* from model_aliases a join model_versions v on v.tenant_id = a.tenant_id and v.model_name = a.model_name and v.version = a.version
          where a.model_name = $1 and a.alias = $2`,
        [name, PRODUCTION_ALIAS],
      );
      return { version: res.rows[0] ? versionFromRow(res.rows[0]) : null, policy: await policyOf(tx, name) };
    });
  }
}

interface SummaryRow {
  name: string;
  created_at: Date | string;
  updated_at: Date | string;
  latest: number | null;
  versions: number;
  aliases: Record<string, number> | null;
}

const SUMMARY_SQL = `select m.name, m.created_at, m.updated_at,
    (select max(v.version) from model_versions v where v.tenant_id = m.tenant_id and v.model_name = m.name) as latest,
    (select count(*)::int from model_versions v where v.tenant_id = m.tenant_id and v.model_name = m.name) as versions,
    (select jsonb_object_agg(a.alias, a.version) from model_aliases a where a.tenant_id = m.tenant_id and a.model_name = m.name) as aliases
  from models m`;

function summaryFromRow(r: SummaryRow): ModelSummary {
  return {
    name: r.name,
    latestVersion: r.latest === null ? null : Number(r.latest),
    aliases: r.aliases ?? {},
    versions: Number(r.versions),
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

async function aliasesOf(tx: Tx, name: string): Promise<Record<string, number>> {
  const res = await tx.query<{ alias: string; version: number }>('select alias, version from model_aliases where model_name = $1 order by alias', [name]);
  return Object.fromEntries(res.rows.map((r) => [r.alias, Number(r.version)]));
}

async function policyOf(tx: Tx, name: string): Promise<ServingPolicy> {
  const res = await tx.query<{ policy: ServingPolicy }>('select policy from model_policies where model_name = $1', [name]);
  return res.rows[0]?.policy ?? 'own';
}
