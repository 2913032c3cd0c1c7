import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Readable } from 'node:stream';
import { jsonArraySource, mediaTypeOf, type RowSource, streamedRowSource } from '../../data/row-sources.js';
import { errors } from '../../errors.js';
import type { Platform } from '../../platform.js';
import { tenantOf } from '../plugins/auth.js';
import { errorResponses, PageQuery } from '../schemas/common.js';
import { CreateDataset, DatasetBody, DatasetParams } from '../schemas/datasets.js';

const tenant = (operation: string, limitClass: 'ingest' | 'default' = 'default') => ({ operation, auth: 'tenant' as const, limitClass });
const tags = ['datasets'];
const ROW_TYPES = ['application/json', 'text/csv', 'application/x-ndjson'];

/** The upload body as a row source, by content type. */
function rowSource(contentType: string | undefined, body: unknown, declaredBytes: number, maxUploadBytes: number): RowSource {
  const type = mediaTypeOf(contentType);
  const streamed = streamedRowSource(type, body as Readable, maxUploadBytes);
  if (streamed) return streamed;
  if (type === 'application/json') {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.validation('body: expected {"rows": [...]}');
    const extra = Object.keys(body).filter((k) => k !== 'rows');
    if (extra.length > 0) throw errors.validation(`body: unknown field '${extra[0]}' (expected {"rows": [...]})`);
    const rows = (body as { rows?: unknown }).rows;
    if (!Array.isArray(rows)) throw errors.validation('body.rows: expected an array of row objects');
    return jsonArraySource(rows, declaredBytes);
  }
  throw errors.unsupportedMediaType(type || '(none)', ROW_TYPES);
}

/** Tenant datasets: create, list, describe, append rows, read rows. */
export const datasetRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const { datasets, config } = platform;

  app.post(
    '/v1/datasets',
    { config: tenant('datasets.create'), schema: { tags, body: CreateDataset, response: { 201: DatasetBody, ...errorResponses(400, 401, 409) } } },
    async (request, reply) => {
      const ds = await datasets.create(tenantOf(request).tenantId, request.body.name, request.body.columns);
      reply.code(201);
      return ds;
    },
  );

  app.get('/v1/datasets', { config: tenant('datasets.list'), schema: { tags, querystring: PageQuery } }, async (request) =>
    datasets.list(tenantOf(request).tenantId, request.query.limit, request.query.cursor),
  );

  app.get(
    '/v1/datasets/:name',
    { config: tenant('datasets.read'), schema: { tags, params: DatasetParams, response: { 200: DatasetBody, ...errorResponses(404) } } },
    async (request) => datasets.describe(tenantOf(request).tenantId, request.params.name),
  );

  app.post(
    '/v1/datasets/:name/rows',
    {
      config: tenant('datasets.append', 'ingest'),
      schema: {
        tags,
        params: DatasetParams,
        description: 'Append rows as text/csv (header line first), application/x-ndjson or JSON {"rows": [...]}. All-or-nothing: one bad row rejects the upload, naming its line and column.',
        response: { 200: Type.Object({ rowsAdded: Type.Integer(), dataset: DatasetBody }), ...errorResponses(400, 404, 413, 415) },
      },
    },
    async (request) => {
      const source = rowSource(request.headers['content-type'], request.body, Number(request.headers['content-length'] ?? 0), config.maxUploadBytes);
      return datasets.appendRows(tenantOf(request).tenantId, request.params.name, source);
    },
  );

  app.get(
    '/v1/datasets/:name/rows',
    { config: tenant('datasets.rows.read'), schema: { tags, params: DatasetParams, querystring: PageQuery } },
    async (request) => datasets.readRows(tenantOf(request).tenantId, request.params.name, request.query.limit, request.query.cursor),
  );
};
