import type { Db } from '../db/db.js';
import { isValidTenantId } from '../db/db.js';
import { errors } from '../errors.js';
import { hashSecret, newTenantKey, randomToken } from './api-key.js';
import type { AuthCache } from './auth-cache.js';
import { checkTenantLimitsInput, mergeTenantLimitsInput } from '../limits/tenant-limits.js';
import {
  type IsolationTier,
  type Tenant,
  type TenantLimitsInput,
  type TenantRow,
  type TenantStatus,
  tenantFromRow,
} from './tenant.js';

export interface CreateTenantInput {
  id?: string | undefined;
  name: string;
  isolation?: IsolationTier | undefined;
  allowPooledTraining?: boolean | undefined;
  limits?: TenantLimitsInput | undefined;
}

export interface PatchTenantInput {
  name?: string | undefined;
  allowPooledTraining?: boolean | undefined;
  limits?: TenantLimitsInput | undefined;
  status?: TenantStatus | undefined;
}

export interface TenantChange {
  tenant: Tenant;
  before: Tenant;
}

export interface IssuedKey {
  keyId: string;
  apiKey: string;
}

export interface KeyInfo {
  keyId: string;
  name: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

type ChangeListener = (change: TenantChange) => void | Promise<void>;

function checkLimits(limits: TenantLimitsInput): void {
  checkTenantLimitsInput(limits as Record<string, unknown>);
}

/** Operator-side tenant management: tenants, their keys and consent. */
export class TenantService {
  private readonly listeners: ChangeListener[] = [];

  constructor(
    private readonly db: Db,
    private readonly authCache: AuthCache,
  ) {}

  /** Called after every tenant change (e.g. consent withdrawn → global model goes stale). */
  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  async create(input: CreateTenantInput): Promise<{ tenant: Tenant; apiKey: string; keyId: string }> {
    const id = input.id ?? `t${randomToken(11, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;
    if (!isValidTenantId(id))
      throw errors.validation('id: must be 1-63 characters of a-z, 0-9, _ and -, starting with a letter or digit');
    checkLimits(input.limits ?? {});
    const key = newTenantKey();
    const tenant = await this.db.withSystem(async (tx) => {
      const exists = await tx.query('select 1 from tenants where id = $1', [id]);
      if (exists.rowCount > 0) throw errors.conflict(`tenant '${id}' already exists`);
      const res = await tx.query<TenantRow>(
        `insert into tenants (id, name, isolation, allow_pooled_training, limits)
         values ($1, $2, $3, $4, $5) returning *`,
        [id, input.name, input.isolation ?? 'pooled', input.allowPooledTraining ?? false, JSON.stringify(input.limits ?? {})],
      );
      await tx.query('insert into api_keys (tenant_id, id, secret_hash, name) values ($1, $2, $3, $4)', [
        id,
        key.keyId,
        hashSecret(key.secret),
        'initial',
      ]);
      return tenantFromRow(res.rows[0]!);
    });
    return { tenant, apiKey: key.apiKey, keyId: key.keyId };
  }

  async list(limit: number, cursor: string | undefined): Promise<{ tenants: Tenant[]; nextCursor: string | null }> {
    const rows = await this.db.withSystem((tx) =>
      tx.query<TenantRow>('select * from tenants where ($1::text is null or id > $1) order by id limit $2', [
        cursor ?? null,
        limit + 1,
      ]),
    );
    const page = rows.rows.slice(0, limit).map(tenantFromRow);
    return { tenants: page, nextCursor: rows.rows.length > limit ? (page.at(-1)?.id ?? null) : null };
  }

  async get(id: string): Promise<Tenant> {
    const res = await this.db.withSystem((tx) => tx.query<TenantRow>('select * from tenants where id = $1', [id]));
    const row = res.rows[0];
    if (!row) throw errors.notFound('tenant', id);
    return tenantFromRow(row);
  }

  async patch(id: string, input: PatchTenantInput): Promise<Tenant> {
    if (input.limits) checkLimits(input.limits);
    const change = await this.db.withSystem(async (tx) => {
      const cur = await tx.query<TenantRow>('select * from tenants where id = $1 for update', [id]);
      const row = cur.rows[0];
      if (!row) throw errors.notFound('tenant', id);
      const before = tenantFromRow(row);
      const limits = input.limits ? mergeTenantLimitsInput(before.limits, input.limits) : before.limits;
      const res = await tx.query<TenantRow>(
        `update tenants set name = $2, allow_pooled_training = $3, limits = $4, status = $5, updated_at = now()
         where id = $1 returning *`,
        [
          id,
          input.name ?? before.name,
          input.allowPooledTraining ?? before.allowPooledTraining,
          JSON.stringify(limits),
          input.status ?? before.status,
        ],
      );
      return { before, tenant: tenantFromRow(res.rows[0]!) };
    });
    // Status and limits live in the auth cache: drop them everywhere before answering.
    await this.authCache.invalidateTenant(id);
    for (const l of this.listeners) await l(change);
    return change.tenant;
  }

  async issueKey(tenantId: string, name?: string): Promise<IssuedKey> {
    await this.get(tenantId);
    const key = newTenantKey();
    await this.db.withTenant(tenantId, (tx) =>
      tx.query('insert into api_keys (tenant_id, id, secret_hash, name) values ($1, $2, $3, $4)', [
        tenantId,
        key.keyId,
        hashSecret(key.secret),
        name ?? null,
      ]),
    );
    return { keyId: key.keyId, apiKey: key.apiKey };
  }

  async listKeys(tenantId: string): Promise<KeyInfo[]> {
    await this.get(tenantId);
    const res = await this.db.withTenant(tenantId, (tx) =>
      tx.query<{ id: string; name: string | null; created_at: Date; last_used_at: Date | null; revoked_at: Date | null }>(
        'select id, name, created_at, last_used_at, revoked_at from api_keys order by created_at, id',
      ),
    );
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
    return res.rows.map((r) => ({
      keyId: r.id,
      name: r.name,
      createdAt: new Date(r.created_at).toISOString(),
      lastUsedAt: iso(r.last_used_at),
      revokedAt: iso(r.revoked_at),
    }));
  }

  async revokeKey(tenantId: string, keyId: string): Promise<void> {
    await this.get(tenantId);
    const res = await this.db.withTenant(tenantId, (tx) =>
      tx.query('update api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1', [keyId]),
    );
    if (res.rowCount === 0) throw errors.notFound('key', keyId);
    await this.authCache.invalidateKey(tenantId, keyId);
  }
}
