import { Type } from '@sinclair/typebox';

export const ColumnSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    type: Type.Union([Type.Literal('number'), Type.Literal('integer'), Type.Literal('string'), Type.Literal('boolean'), Type.Literal('date')]),
  },
  { additionalProperties: false },
);

export const CreateDataset = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    columns: Type.Optional(Type.Array(ColumnSchema, { minItems: 1, maxItems: 1000 })),
  },
  { additionalProperties: false },
);

export const DatasetBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  columns: Type.Array(ColumnSchema),
  rowCount: Type.Integer(),
  sizeBytes: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const DatasetParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });
