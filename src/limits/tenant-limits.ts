/**
 * A tenant's limits: the documented defaults, merging a partial object over
 * them, validation that names the offending field, and the rate policy that
 * applies to a route class.
 */
import { errors } from '../errors.js';

/** The classes of routes that can carry their own rate limit. */
export const ROUTE_CLASSES = ['predict', 'train', 'ingest', 'rag', 'default'] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];

/** A rate and its bucket capacity, for one route class. */
export interface RouteRateLimit {
  requestsPerSecond: number;
  /** Bucket capacity: requests that may arrive at once after a quiet period. */
  burst: number;
}

/** Everything a tenant is allowed, fully resolved. */
export interface TenantLimits {
  requestsPerSecond: number;
  burst: number;
  /** Tasks of this tenant that may run on shared compute at the same time. */
  maxConcurrent: number;
  /** Predicted rows per UTC day. */
  dailyPredictions: number;
  /** Predicted rows per UTC calendar month. */
  monthlyPredictions: number;
  storageBytes: number;
  /** Per-class overrides; a class without one shares the tenant's `default` bucket. */
  routes: Partial<Record<RouteClass, RouteRateLimit>>;
}

/** What an operator may send: any subset, merged over the defaults. */
export type TenantLimitsInput = Partial<Omit<TenantLimits, 'routes'>> & {
  routes?: Partial<Record<RouteClass, Partial<RouteRateLimit>>>;
};

/** The documented defaults for a tenant created without explicit limits. */
export const DEFAULT_TENANT_LIMITS: Readonly<TenantLimits> = Object.freeze({
  requestsPerSecond: 100,
  burst: 200,
  maxConcurrent: 4,
  dailyPredictions: 1_000_000,
  monthlyPredictions: 20_000_000,
  storageBytes: 1024 ** 3,
  routes: Object.freeze({}),
});

/** The scalar (non-route) limit fields, in documentation order. */
export const LIMIT_FIELDS = [
  'requestsPerSecond',
  'burst',
  'maxConcurrent',
  'dailyPredictions',
  'monthlyPredictions',
  'storageBytes',
] as const;

/** Fields that count whole things and so must be integers. */
const INTEGER_FIELDS = new Set<string>(['burst', 'maxConcurrent', 'dailyPredictions', 'monthlyPredictions', 'storageBytes']);

function checkPositive(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw errors.validation(`limits.${field} must be a positive number`, { field: `limits.${field}` });
  }
  const leaf = field.slice(field.lastIndexOf('.') + 1);
  if (INTEGER_FIELDS.has(leaf) && !Number.isInteger(value)) {
    throw errors.validation(`limits.${field} must be an integer`, { field: `limits.${field}` });
  }
  return value;
}

/** Merges a partial limits object over `base` (the defaults unless given) and validates the result. */
export function resolveTenantLimits(input: TenantLimitsInput = {}, base: TenantLimits = DEFAULT_TENANT_LIMITS): TenantLimits {
  const out: TenantLimits = { ...base, routes: { ...base.routes } };
  for (const field of LIMIT_FIELDS) {
    const value = input[field];
    if (value !== undefined) out[field] = checkPositive(field, value);
  }
  for (const [routeClass, override] of Object.entries(input.routes ?? {})) {
    if (!(ROUTE_CLASSES as readonly string[]).includes(routeClass)) {
      throw errors.validation(`limits.routes.${routeClass} is not a route class; use one of ${ROUTE_CLASSES.join(', ')}`, {
        field: `limits.routes.${routeClass}`,
      });
    }
    if (override === undefined) continue;
    const cls = routeClass as RouteClass;
    const previous = out.routes[cls];
    const rps = override.requestsPerSecond ?? previous?.requestsPerSecond ?? out.requestsPerSecond;
    const burst = override.burst ?? previous?.burst ?? Math.max(1, Math.ceil(rps));
    out.routes[cls] = {
      requestsPerSecond: checkPositive(`routes.${cls}.requestsPerSecond`, rps),
      burst: checkPositive(`routes.${cls}.burst`, burst),
    };
  }
  return out;
}

/** The token-bucket parameters and bucket name that limit one request of a route class. */
export interface RatePolicy {
  /** Which bucket is charged: the class itself when it has an override, otherwise `default`. */
  bucket: RouteClass;
  /** Units per second. */
  rate: number;
  /** Bucket capacity in units. */
  burst: number;
}

/** The rate policy for a route class: its own override, or the tenant-wide bucket it shares. */
export function ratePolicyFor(limits: TenantLimits, routeClass: RouteClass): RatePolicy {
  const override = limits.routes[routeClass];
  if (override) return { bucket: routeClass, rate: override.requestsPerSecond, burst: override.burst };
  return { bucket: 'default', rate: limits.requestsPerSecond, burst: limits.burst };
}

/**
 * Checks what an operator sent before it is stored: only known fields, each
 * positive (integers where they count things), route classes known.
 */
export function checkTenantLimitsInput(input: Record<string, unknown>): TenantLimitsInput {
  const known = new Set<string>([...LIMIT_FIELDS, 'routes']);
  for (const field of Object.keys(input)) {
    if (!known.has(field)) throw errors.validation(`limits.${field}: unknown limit`, { field: `limits.${field}` });
  }
  const routes = input.routes;
  if (routes !== undefined && (routes === null || typeof routes !== 'object' || Array.isArray(routes))) {
    throw errors.validation('limits.routes must be an object keyed by route class', { field: 'limits.routes' });
  }
  for (const [cls, override] of Object.entries((routes ?? {}) as Record<string, unknown>)) {
    if (override === null || typeof override !== 'object' || Array.isArray(override)) {
      throw errors.validation(`limits.routes.${cls} must be an object`, { field: `limits.routes.${cls}` });
    }
    for (const key of Object.keys(override)) {
      if (key !== 'requestsPerSecond' && key !== 'burst') {
        throw errors.validation(`limits.routes.${cls}.${key}: unknown limit`, { field: `limits.routes.${cls}.${key}` });
      }
    }
  }
  const typed = input as TenantLimitsInput;
  resolveTenantLimits(typed);
  return typed;
}

/** Applies an operator's patch to stored limits: fields replace fields, route classes merge per class. */
export function mergeTenantLimitsInput(stored: TenantLimitsInput, patch: TenantLimitsInput): TenantLimitsInput {
  const merged: TenantLimitsInput = { ...stored, ...patch };
  if (stored.routes || patch.routes) {
    const routes: NonNullable<TenantLimitsInput['routes']> = { ...stored.routes };
    for (const [cls, override] of Object.entries(patch.routes ?? {})) {
      routes[cls as RouteClass] = { ...stored.routes?.[cls as RouteClass], ...override };
    }
    merged.routes = routes;
  }
  return merged;
}
