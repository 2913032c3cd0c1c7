import type { Db } from '../db/db.js';
import { errors } from '../errors.js';
import { hashSecret, parseTenantKey, secretMatches } from './api-key.js';
import type { AuthCache, CachedKey } from './auth-cache.js';
import type { OperatorKey } from './operator-key.js';
import { effectiveLimits, type Tenant, type TenantLimits, type TenantRow, tenantFromRow } from './tenant.js';

export type Principal =
  | { kind: 'tenant'; tenantId: string; keyId: string; tenant: Tenant; limits: TenantLimits }
  | { kind: 'operator' };

type TenantPrincipal = Extract<Principal, { kind: 'tenant' }>;

// last_used_at is bookkeeping: write it at most once a minute per key, off the request path.
const LAST_USED_WRITE_INTERVAL_MS = 60_000;
// Headers remembered as verified; past this many they are all forgotten (and verified again on their next use).
const MAX_VERIFIED_HEADERS = 100_000;

/** Turns an `Authorization` header into a principal: a tenant (from its key) or the operator. */
export class Authenticator {
  private readonly lastUsedWrites = new Map<string, number>();
  // Per Authorization header already verified: the key entry it was verified against and the principal built from it.
  // A hit is one map lookup (no parsing of the header per request); it counts only while the cache still holds that
  // very entry, so a revoked, changed, expired or evicted key is verified afresh.
  private readonly verified = new Map<string, { entry: CachedKey; principal: TenantPrincipal }>();

  constructor(
    private readonly db: Db,
    private readonly cache: AuthCache,
    private readonly operatorKey: OperatorKey,
    private readonly onBackgroundError: (err: unknown) => void = () => {},
  ) {}

  /**
   * The caller of a key already verified and still valid, without waiting;
   * undefined for anything else (unknown, wrong, revoked, operator): then
   * `authenticate` decides, and produces the error.
   */
  authenticateNow(authorization: string | undefined): TenantPrincipal | undefined {
    if (authorization === undefined) return undefined;
    const known = this.verified.get(authorization);
    if (known === undefined) return undefined;
    const { entry, principal } = known;
    if (this.cache.get(entry.keyId) !== entry || entry.revoked || entry.tenant.status === 'suspended') {
      this.verified.delete(authorization);
      return undefined;
    }
    this.touch(entry.keyId, entry.tenantId);
    return principal;
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const verified = this.authenticateNow(authorization);
    if (verified !== undefined) return verified;
    const m = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!m) throw errors.unauthorized('missing API key: send Authorization: Bearer <key>');
    const token = m[1]!;
    const parsed = parseTenantKey(token);
    if (!parsed) {
      if (this.operatorKey.matches(token)) return { kind: 'operator' };
      throw errors.unauthorized('invalid API key');
    }
    const entry = this.cache.get(parsed.keyId) ?? (await this.load(parsed.keyId));
    // Compare even for unknown keys so timing does not tell a missing key id from a wrong secret.
    const ok = secretMatches(parsed.secret, entry?.secretHash ?? hashSecret(''));
    if (!entry || !ok || entry.revoked) throw errors.unauthorized('invalid API key');
    if (entry.tenant.status === 'suspended') throw errors.tenantSuspended();
    this.touch(entry.keyId, entry.tenantId);
    const principal: TenantPrincipal = {
      kind: 'tenant',
      tenantId: entry.tenantId,
      keyId: entry.keyId,
      tenant: entry.tenant,
      limits: effectiveLimits(entry.tenant.limits),
    };
    if (this.verified.size >= MAX_VERIFIED_HEADERS) this.verified.clear();
    this.verified.set(authorization!, { entry, principal });
    return principal;
  }

  private async load(keyId: string) {
    const res = await this.db.withSystem((tx) =>
      tx.query<TenantRow & { key_id: string; secret_hash: Buffer | Uint8Array; revoked_at: Date | null }>(
        `select k.id as key_id, k.secret_hash, k.revoked_at, t.*
           from api_keys k join tenants t on t.id = k.tenant_id where k.id = $1`,
        [keyId],
      ),
    );
    const row = res.rows[0];
    if (!row) return undefined;
    const entry = {
      keyId: row.key_id,
      tenantId: row.id,
      secretHash: Buffer.from(row.secret_hash),
      revoked: row.revoked_at !== null,
      tenant: tenantFromRow(row),
      loadedAt: Date.now(),
    };
    this.cache.set(entry);
    return entry;
  }

  private touch(keyId: string, tenantId: string): void {
    const now = Date.now();
    const last = this.lastUsedWrites.get(keyId) ?? 0;
    if (now - last < LAST_USED_WRITE_INTERVAL_MS) return;
    this.lastUsedWrites.set(keyId, now);
    this.db
      .withTenant(tenantId, (tx) => tx.query('update api_keys set last_used_at = now() where id = $1', [keyId]))
      .catch(this.onBackgroundError);
  }
}
