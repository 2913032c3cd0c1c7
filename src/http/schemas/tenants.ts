import { Type } from '@sinclair/typebox';

export const Limits = Type.Object(
  {
    requestsPerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    burst: Type.Optional(Type.Integer({ minimum: 1 })),
    maxConcurrent: Type.Optional(Type.Integer({ minimum: 1 })),
    dailyPredictions: Type.Optional(Type.Integer({ minimum: 1 })),
    monthlyPredictions: Type.Optional(Type.Integer({ minimum: 1 })),
    storageBytes: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export const TenantBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  isolation: Type.Union([Type.Literal('pooled'), Type.Literal('siloed')]),
  allowPooledTraining: Type.Boolean(),
  limits: Limits,
  effectiveLimits: Type.Record(Type.String(), Type.Number()),
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
