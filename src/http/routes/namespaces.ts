import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { errors } from '../../errors.js';
import type { Platform } from '../../platform.js';
import type { DocumentFormat } from '../../rag/parsing/parsed-document.js';
import type { IngestInput } from '../../rag/service/document-ingestor.js';
import { tenantOf } from '../plugins/auth.js';
import { errorResponses, PageQuery } from '../schemas/common.js';
import { AskBody, CreateNamespace, DocumentParams, JobParams, JsonDocument, NamespaceBody, NamespaceParams, QueryBody } from '../schemas/rag.js';

const tenant = (operation: string, limitClass: 'rag' | 'ingest' = 'rag') => ({ operation, auth: 'tenant' as const, limitClass });
const tags = ['rag'];
const FORMATS: readonly DocumentFormat[] = ['pdf', 'text', 'markdown', 'html'];
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MULTIPART_FIELDS = new Set(['id', 'metadata', 'format']);

/** A multipart upload: one file part, plus optional `id`, `metadata` (JSON) and `format` fields. */
async function multipartInput(request: FastifyRequest): Promise<IngestInput> {
  let input: Partial<IngestInput> = {};
  const fields: Record<string, string> = {};
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (input.bytes) throw errors.validation('upload one file per request');
      input = { ...input, bytes: await part.toBuffer(), ...(part.filename ? { filename: part.filename } : {}) };
      if (part.mimetype && part.mimetype !== 'application/octet-stream') input.contentType = part.mimetype;
    } else {
      if (!MULTIPART_FIELDS.has(part.fieldname)) throw errors.validation(`form field '${part.fieldname}' is unknown (expected file, id, metadata, format)`);
      fields[part.fieldname] = String(part.value);
    }
  }
  if (!input.bytes) throw errors.validation('no file in the form (send it as a file part)');
  if (fields.id !== undefined) input.id = fields.id;
  if (fields.metadata !== undefined) {
    try {
      input.metadata = JSON.parse(fields.metadata) as Record<string, unknown>;
    } catch {
      throw errors.validation('metadata: must be a JSON object');
    }
  }
  if (fields.format !== undefined) {
    if (!(FORMATS as string[]).includes(fields.format)) throw errors.validation(`format: one of ${FORMATS.join(', ')}`);
    input.format = fields.format as DocumentFormat;
  }
  return input as IngestInput;
}

/** A JSON document `{id?, text, metadata?, format?}` as an upload. */
function jsonInput(body: unknown): IngestInput {
  const doc = body as { id?: string; text: string; metadata?: Record<string, unknown>; format?: DocumentFormat };
  // JSON escapes can carry lone surrogates, which are not text.
  if (LONE_SURROGATE.test(doc.text)) throw errors.validation('text: contains an unpaired surrogate (invalid Unicode)');
  if (doc.text.trim() === '') throw errors.validation('text: must not be empty');
  return {
    bytes: Buffer.from(doc.text, 'utf8'),
    format: doc.format ?? 'text',
    ...(doc.id !== undefined ? { id: doc.id } : {}),
    ...(doc.metadata !== undefined ? { metadata: doc.metadata } : {}),
  };
}

/** RAG namespaces: create, describe, delete; upload, read and delete documents; query and ask. */
export const namespaceRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const rag = platform.rag.service;
  await app.register(multipart, { limits: { fileSize: platform.config.maxUploadBytes, files: 1, fields: 10, fieldSize: 64 * 1024 } });

  app.post(
    '/v1/namespaces',
    { config: tenant('rag.namespaces.create'), schema: { tags, body: CreateNamespace, response: { 201: NamespaceBody, ...errorResponses(400, 409) } } },
    async (request, reply) => {
      const ns = await rag.createNamespace(tenantOf(request).tenantId, request.body.name, request.body.embedder);
      reply.code(201);
      return ns;
    },
  );

  app.get('/v1/namespaces', { config: tenant('rag.namespaces.list'), schema: { tags, querystring: PageQuery } }, async (request) =>
    rag.listNamespaces(tenantOf(request).tenantId, request.query.limit, request.query.cursor),
  );

  app.get(
    '/v1/namespaces/:ns',
    { config: tenant('rag.namespaces.read'), schema: { tags, params: NamespaceParams, response: { 200: NamespaceBody, ...errorResponses(404) } } },
    async (request) => rag.describeNamespace(tenantOf(request).tenantId, request.params.ns),
  );

  app.delete(
    '/v1/namespaces/:ns',
    { config: tenant('rag.namespaces.delete'), schema: { tags, params: NamespaceParams, response: errorResponses(404) } },
    async (request) => rag.deleteNamespace(tenantOf(request).tenantId, request.params.ns),
  );

  app.post(
    '/v1/namespaces/:ns/documents',
    {
      config: tenant('rag.documents.upload', 'ingest'),
      schema: {
        tags,
        params: NamespaceParams,
        description:
          'Upload a document: multipart/form-data with one file (PDF, text, Markdown, HTML) and optional fields id, metadata (JSON), format; or JSON {id?, text, metadata?, format?}. 201 when searchable; 202 {job} for uploads over the inline limit. Re-using an id replaces the document atomically.',
        response: errorResponses(400, 404, 413, 415),
      },
    },
    async (request, reply) => {
      const tenantId = tenantOf(request).tenantId;
      let input: IngestInput;
      if (request.isMultipart()) input = await multipartInput(request);
      else if ((request.headers['content-type'] ?? '').startsWith('application/json')) input = jsonInput(checkJsonDocument(request.body));
      else throw errors.unsupportedMediaType(request.headers['content-type'] ?? '(none)', ['multipart/form-data', 'application/json']);
      const outcome = await rag.upload(tenantId, request.params.ns, input);
      if (outcome.kind === 'queued') {
        reply.code(202);
        return { job: outcome.job };
      }
      reply.code(outcome.result.deduplicated ? 200 : 201);
      return outcome.result;
    },
  );

  app.get(
    '/v1/namespaces/:ns/documents',
    { config: tenant('rag.documents.list'), schema: { tags, params: NamespaceParams, querystring: PageQuery } },
    async (request) => rag.listDocuments(tenantOf(request).tenantId, request.params.ns, request.query.limit, request.query.cursor),
  );

  app.get(
    '/v1/namespaces/:ns/documents/:id',
    { config: tenant('rag.documents.read'), schema: { tags, params: DocumentParams, response: errorResponses(404) } },
    async (request) => rag.getDocument(tenantOf(request).tenantId, request.params.ns, request.params.id),
  );

  app.delete(
    '/v1/namespaces/:ns/documents/:id',
    { config: tenant('rag.documents.delete'), schema: { tags, params: DocumentParams, response: errorResponses(404) } },
    async (request, reply) => {
      await rag.deleteDocument(tenantOf(request).tenantId, request.params.ns, request.params.id);
      reply.code(204);
    },
  );

  app.get(
    '/v1/namespaces/:ns/jobs/:id',
    { config: tenant('rag.jobs.read'), schema: { tags, params: JobParams, response: errorResponses(404) } },
    async (request) => rag.jobs.get(tenantOf(request).tenantId, request.params.ns, request.params.id),
  );

  app.post(
    '/v1/namespaces/:ns/query',
    { config: tenant('rag.query'), schema: { tags, params: NamespaceParams, body: QueryBody, response: errorResponses(400, 404) } },
    async (request) => {
      const body = request.body;
      const mode = body.mode ?? 'hybrid';
      const results = await rag.search.search(tenantOf(request).tenantId, request.params.ns, { query: body.query, topK: body.topK, filter: body.filter, mode });
      return { mode, results: results.map(({ documentTitle: _t, ...r }) => r) };
    },
  );

  app.post(
    '/v1/namespaces/:ns/ask',
    { config: tenant('rag.ask'), schema: { tags, params: NamespaceParams, body: AskBody, response: errorResponses(400, 404, 503) } },
    async (request) => rag.search.ask(tenantOf(request).tenantId, request.params.ns, request.body.question, request.body.topK ?? 5),
  );
};

/** The JSON upload body, checked strictly (the route takes multipart too, so it has no body schema). */
function checkJsonDocument(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.validation('body: expected {"text": "...", "id"?, "metadata"?, "format"?}');
  const b = body as Record<string, unknown>;
  const known = Object.keys(JsonDocument.properties);
  const unknown = Object.keys(b).find((k) => !known.includes(k));
  if (unknown) throw errors.validation(`body: unknown field '${unknown}'`);
  if (typeof b.text !== 'string') throw errors.validation("body: missing required field 'text' (a string)");
  if (b.id !== undefined && typeof b.id !== 'string') throw errors.validation('body.id: must be a string');
  if (b.metadata !== undefined && (b.metadata === null || typeof b.metadata !== 'object' || Array.isArray(b.metadata))) {
    throw errors.validation('body.metadata: must be an object');
  }
  if (b.format !== undefined && !['text', 'markdown', 'html'].includes(b.format as string)) throw errors.validation('body.format: one of text, markdown, html');
  return b;
}
