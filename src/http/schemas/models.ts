import { Type } from '@sinclair/typebox';

const Name = Type.String({ minLength: 1, maxLength: 128 });

export const Objective = Type.Union(
  ['reg:squarederror', 'reg:absoluteerror', 'reg:pseudohubererror', 'count:poisson', 'reg:tweedie', 'binary:logistic'].map((o) => Type.Literal(o)),
);

/** Training parameters (camelCase, XGBoost meanings); ranges are checked by the trainer's validation. */
export const TrainParamsSchema = Type.Object(
  {
    eta: Type.Optional(Type.Number()),
    maxDepth: Type.Optional(Type.Integer()),
    minChildWeight: Type.Optional(Type.Number()),
    lambda: Type.Optional(Type.Number()),
    alpha: Type.Optional(Type.Number()),
    gamma: Type.Optional(Type.Number()),
    maxDeltaStep: Type.Optional(Type.Number()),
    subsample: Type.Optional(Type.Number()),
    colsampleBytree: Type.Optional(Type.Number()),
    maxBin: Type.Optional(Type.Integer()),
    seed: Type.Optional(Type.Integer()),
    numBoostRound: Type.Optional(Type.Integer()),
    earlyStoppingRounds: Type.Optional(Type.Integer()),
    evalMetric: Type.Optional(Type.Union(['rmse', 'mae', 'mphe', 'logloss', 'error', 'poisson-nloglik', 'tweedie-nloglik'].map((m) => Type.Literal(m)))),
    baseScore: Type.Optional(Type.Number()),
    tweedieVariancePower: Type.Optional(Type.Number()),
    huberSlope: Type.Optional(Type.Number()),
    scalePosWeight: Type.Optional(Type.Number()),
    maxCatToOnehot: Type.Optional(Type.Integer()),
    maxCatThreshold: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

export const ForecastSchema = Type.Object(
  {
    seriesKeys: Type.Array(Name, { maxItems: 8 }),
    dateColumn: Name,
    horizon: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    lags: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 1000 }), { minItems: 1, maxItems: 32 })),
    windows: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 1000 }), { maxItems: 16 })),
    seasonLength: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);

export const TrainBody = Type.Object(
  {
    name: Name,
    dataset: Name,
    target: Name,
    features: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 1000 })),
    objective: Objective,
    params: Type.Optional(TrainParamsSchema),
    forecast: Type.Optional(ForecastSchema),
  },
  { additionalProperties: false },
);

export const GlobalTrainBody = Type.Object(
  {
    name: Name,
    dataset: Name,
    target: Name,
    features: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 1000 })),
    objective: Objective,
    params: Type.Optional(TrainParamsSchema),
  },
  { additionalProperties: false },
);

export const ModelParams = Type.Object({ name: Name });
export const VersionParams = Type.Object({ name: Name, version: Type.Integer({ minimum: 1 }) });
export const AliasParams = Type.Object({ name: Name, alias: Name });
export const AliasBody = Type.Object({ version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
export const PolicyBody = Type.Object({ policy: Type.Union([Type.Literal('own'), Type.Literal('global'), Type.Literal('best')]) }, { additionalProperties: false });
export const JobParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

const FeatureValue = Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]);

export const PredictBody = Type.Object(
  {
    rows: Type.Optional(Type.Array(Type.Record(Type.String(), FeatureValue), { maxItems: 100_000 })),
    instances: Type.Optional(Type.Array(Type.Array(FeatureValue), { maxItems: 100_000 })),
  },
  { additionalProperties: false },
);

export const ForecastBody = Type.Object(
  {
    series: Type.Record(Type.String(), FeatureValue),
    history: Type.Optional(Type.Array(Type.Record(Type.String(), FeatureValue), { maxItems: 100_000 })),
    horizon: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
