import { Type } from '@sinclair/typebox';

const Name = Type.String({ minLength: 1, maxLength: 128 });
const Parameters = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]));

export const V2ModelParams = Type.Object({ name: Name });
export const V2VersionParams = Type.Object({ name: Name, version: Type.Integer({ minimum: 1 }) });

/** `$inference_request`; tensor contents are checked against the model by `parseInferRequest`. */
export const InferBody = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 200 })),
    parameters: Type.Optional(Parameters),
    inputs: Type.Array(
      Type.Object(
        {
          name: Name,
          shape: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, maxItems: 8 }),
          datatype: Type.String({ maxLength: 16 }),
          parameters: Type.Optional(Parameters),
          data: Type.Unknown(),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 10_000 },
    ),
    outputs: Type.Optional(
      Type.Array(Type.Object({ name: Name, parameters: Type.Optional(Parameters) }, { additionalProperties: false }), { maxItems: 16 }),
    ),
  },
  { additionalProperties: false },
);

/** `$repository_index_request`. */
export const RepositoryIndexBody = Type.Object({ ready: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

/** Triton's load/unload request: optional parameters (none are used). */
export const RepositoryModelBody = Type.Object({ parameters: Type.Optional(Parameters) }, { additionalProperties: false });

export const OipError = Type.Object({ error: Type.String() });
