/** A tenant as the platform sees it, and the limits it runs under. */

export type IsolationTier = 'pooled' | 'siloed';
export type TenantStatus = 'active' | 'suspended';

export interface TenantLimits {
  /** Sustained request rate admitted per second. */
  requestsPerSecond: number;
  /** Bucket capacity: requests that may arrive at once after a quiet period. */
  burst: number;
  /** Compute tasks (predictions, training) running at once. */
  maxConcurrent: number;
  /** Predicted rows per UTC day. */
  dailyPredictions: number;
  /** Predicted rows per UTC month. */
  monthlyPredictions: number;
  /** Bytes of datasets and documents stored. */
  storageBytes: number;
}

/** What a tenant gets when its `limits` leave a field out. */
export const DEFAULT_LIMITS: Readonly<TenantLimits> = Object.freeze({
  requestsPerSecond: 100,
  burst: 200,
  maxConcurrent: 4,
  dailyPredictions: 1_000_000,
  monthlyPredictions: 20_000_000,
  storageBytes: 1024 ** 3,
});

export const LIMIT_FIELDS = Object.keys(DEFAULT_LIMITS) as (keyof TenantLimits)[];

export interface Tenant {
  id: string;
  name: string;
  isolation: IsolationTier;
  allowPooledTraining: boolean;
  /** Only the fields the operator set; `effectiveLimits` fills in the defaults. */
  limits: Partial<TenantLimits>;
  status: TenantStatus;
  createdAt: string;
  updatedAt: string;
}

/** The limits in force: the operator's values over the defaults. */
export function effectiveLimits(limits: Partial<TenantLimits>): TenantLimits {
  return { ...DEFAULT_LIMITS, ...limits };
}

export interface TenantRow {
  id: string;
  name: string;
  isolation: IsolationTier;
  allow_pooled_training: boolean;
  limits: Partial<TenantLimits>;
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
