import { Type } from '@sinclair/typebox';

const Name = Type.String({ minLength: 1, maxLength: 128 });

export const NamespaceParams = Type.Object({ ns: Name });
export const DocumentParams = Type.Object({ ns: Name, id: Type.String({ minLength: 1, maxLength: 200 }) });
export const JobParams = Type.Object({ ns: Name, id: Type.String({ minLength: 1, maxLength: 100 }) });

export const EmbedderRequest = Type.Object(
  {
    kind: Type.Optional(Type.Union([Type.Literal('hash'), Type.Literal('openai')])),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    baseUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    dimension: Type.Optional(Type.Integer({ minimum: 1, maximum: 8192 })),
  },
  { additionalProperties: false },
);

export const CreateNamespace = Type.Object({ name: Name, embedder: Type.Optional(EmbedderRequest) }, { additionalProperties: false });

export const NamespaceBody = Type.Object({
  name: Type.String(),
  embedder: Type.Record(Type.String(), Type.Unknown()),
  dimension: Type.Integer(),
  generation: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  stats: Type.Optional(
    Type.Object({
      documents: Type.Integer(),
      chunks: Type.Integer(),
      documentBytes: Type.Integer(),
      storedBytes: Type.Integer(),
      indexResident: Type.Boolean(),
    }),
  ),
});

/** A document sent as JSON; uploads of files use multipart/form-data instead. */
export const JsonDocument = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    text: Type.String({ minLength: 1 }),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    format: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('markdown'), Type.Literal('html')])),
  },
  { additionalProperties: false },
);

export const SearchMode = Type.Union([Type.Literal('hybrid'), Type.Literal('vector'), Type.Literal('lexical')]);

export const QueryBody = Type.Object(
  {
    query: Type.String({ minLength: 1, maxLength: 4000 }),
    topK: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    filter: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    mode: Type.Optional(SearchMode),
  },
  { additionalProperties: false },
);

export const AskBody = Type.Object(
  {
    question: Type.String({ minLength: 1, maxLength: 4000 }),
    topK: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
  },
  { additionalProperties: false },
);

const ChatContent = Type.Union([
  Type.String(),
  Type.Array(Type.Object({ type: Type.String(), text: Type.Optional(Type.String()) }, { additionalProperties: true })),
  Type.Null(),
]);

export const ChatMessageBody = Type.Object(
  {
    role: Type.Union([Type.Literal('system'), Type.Literal('developer'), Type.Literal('user'), Type.Literal('assistant'), Type.Literal('tool')]),
    content: ChatContent,
    name: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** OpenAI's chat request; generation knobs are accepted (the configured model decides), unknown fields are not. */
export const ChatCompletionBody = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 200 }),
    messages: Type.Array(ChatMessageBody, { minItems: 1, maxItems: 200 }),
    stream: Type.Optional(Type.Boolean()),
    stream_options: Type.Optional(Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }), Type.Null()])),
    temperature: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    top_p: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    max_tokens: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    max_completion_tokens: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    n: Type.Optional(Type.Union([Type.Literal(1), Type.Null()])),
    stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String()), Type.Null()])),
    presence_penalty: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    frequency_penalty: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    seed: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    user: Type.Optional(Type.String()),
    /** tenantml extension: how many chunks to retrieve (default 5). */
    top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
  },
  { additionalProperties: false },
);

export const EmbeddingsBody = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 200 }),
    input: Type.Union([Type.String({ minLength: 1, maxLength: 100_000 }), Type.Array(Type.String({ minLength: 1, maxLength: 100_000 }), { minItems: 1, maxItems: 2048 })]),
    encoding_format: Type.Optional(Type.Union([Type.Literal('float'), Type.Literal('base64')])),
    dimensions: Type.Optional(Type.Integer({ minimum: 1 })),
    user: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
