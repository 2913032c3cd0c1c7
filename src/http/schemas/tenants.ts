import { Type } from '@sinclair/typebox';

/** A per-route-class rate override: the class gets a bucket of its own. */
const RouteRate = Type.Object(
  {
    requestsPerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    burst: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/** Rate overrides by route class (`predict`, `train`, `ingest`, `rag`, `default`). */
const RouteRates = Type.Object(
  {
    predict: Type.Optional(RouteRate),
    train: Type.Optional(RouteRate),
    ingest: Type.Optional(RouteRate),
    rag: Type.Optional(RouteRate),
    default: Type.Optional(RouteRate),
  },
  { additionalProperties: false },
);

export const Limits = Type.Object(
  {
    requestsPerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    burst: Type.Optional(Type.Integer({ minimum: 1 })),
    maxConcurrent: Type.Optional(Type.Integer({ minimum: 1 })),
    dailyPredictions: Type.Optional(Type.Integer({ minimum: 1 })),
    monthlyPredictions: Type.Optional(Type.Integer({ minimum: 1 })),
    storageBytes: Type.Optional(Type.Integer({ minimum: 1 })),
    routes: Type.Optional(RouteRates),
  },
  { additionalProperties: false },
);

/** The limits in force: every field resolved, plus the per-class overrides. */
export const EffectiveLimits = Type.Object({
  requestsPerSecond: Type.Number(),
  burst: Type.Integer(),
  maxConcurrent: Type.Integer(),
  dailyPredictions: Type.Integer(),
  monthlyPredictions: Type.Integer(),
  storageBytes: Type.Integer(),
  routes: RouteRates,
});

export const TenantBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  isolation: Type.Union([Type.Literal('pooled'), Type.Literal('siloed')]),
  allowPooledTraining: Type.Boolean(),
  limits: Limits,
  effectiveLimits: EffectiveLimits,
  status: Type.Union([Type.Literal('active'), Type.Literal('suspended')]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const CreateTenant = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' })),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    isolation: Type.Optional(Type.Union([Type.Literal('pooled'), Type.Literal('siloed')])),
    allowPooledTraining: Type.Optional(Type.Boolean()),
    limits: Type.Optional(Limits),
  },
  { additionalProperties: false },
);

export const PatchTenant = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    allowPooledTraining: Type.Optional(Type.Boolean()),
    limits: Type.Optional(Limits),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('suspended')])),
  },
  { additionalProperties: false },
);

export const TenantIdParams = Type.Object({ id: Type.String({ maxLength: 63 }) });
export const KeyParams = Type.Object({ id: Type.String({ maxLength: 63 }), keyId: Type.String({ maxLength: 64 }) });
