/** A tenant as the platform sees it, and the limits it runs under. */
import { resolveTenantLimits, type TenantLimits, type TenantLimitsInput } from '../limits/tenant-limits.js';

export type IsolationTier = 'pooled' | 'siloed';
export type TenantStatus = 'active' | 'suspended';

/** The limits domain owns the shape, defaults and validation of a tenant's limits. */
export {
  DEFAULT_TENANT_LIMITS as DEFAULT_LIMITS,
  LIMIT_FIELDS,
  type TenantLimits,
  type TenantLimitsInput,
} from '../limits/tenant-limits.js';

export interface Tenant {
  id: string;
  name: string;
  isolation: IsolationTier;
  allowPooledTraining: boolean;
  /** Only the fields the operator set; `effectiveLimits` fills in the defaults. */
  limits: TenantLimitsInput;
  status: TenantStatus;
  createdAt: string;
  updatedAt: string;
}

/** The limits in force: the operator's values over the defaults. */
export function effectiveLimits(limits: TenantLimitsInput): TenantLimits {
  return resolveTenantLimits(limits);
}

export interface TenantRow {
  id: string;
  name: string;
  isolation: IsolationTier;
  allow_pooled_training: boolean;
  limits: TenantLimitsInput;
  status: TenantStatus;
  created_at: Date;
  updated_at: Date;
}

export function tenantFromRow(r: TenantRow): Tenant {
  return {
    id: r.id,
    name: r.name,
    isolation: r.isolation,
    allowPooledTraining: r.allow_pooled_training,
    limits: r.limits,
    status: r.status,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}
