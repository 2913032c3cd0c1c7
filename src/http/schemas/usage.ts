import { Type } from '@sinclair/typebox';
import { EffectiveLimits } from './tenants.js';

const QuotaWindow = Type.Object({
  period: Type.Union([Type.Literal('day'), Type.Literal('month')]),
  window: Type.String({ description: 'e.g. day:2025-03-31 or month:2025-03 (UTC)' }),
  used: Type.Integer(),
  limit: Type.Integer(),
  remaining: Type.Integer(),
  resetAt: Type.String({ description: 'ISO-8601 UTC: the next UTC midnight or first of the month' }),
});

const Bucket = Type.Object({
  bucket: Type.String(),
  requestsPerSecond: Type.Number(),
  burst: Type.Integer(),
  routeClasses: Type.Array(Type.String()),
});

/** One tenant's limits and standing. */
export const TenantUsageBody = Type.Object({
  tenantId: Type.String(),
  limits: EffectiveLimits,
  rateLimits: Type.Array(Bucket),
  predictions: Type.Object({ day: QuotaWindow, month: QuotaWindow }),
  storage: Type.Object({
    used: Type.Integer(),
    limit: Type.Integer(),
    remaining: Type.Integer(),
    bySource: Type.Record(Type.String(), Type.Integer()),
  }),
  requests: Type.Object({
    window: Type.String(),
    admitted: Type.Integer(),
    throttled: Type.Object({ rate: Type.Integer(), quota: Type.Integer(), concurrency: Type.Integer() }),
    shed: Type.Integer(),
  }),
  compute: Type.Object({ inFlight: Type.Integer(), queued: Type.Integer(), maxConcurrent: Type.Integer() }),
});

/** Every tenant's usage, for the operator. */
export const AdminUsageBody = Type.Object({
  generatedAt: Type.String(),
  limiterMode: Type.Union([Type.Literal('memory'), Type.Literal('redis'), Type.Literal('local-fallback')]),
  tenants: Type.Array(TenantUsageBody),
});
