import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TSchema } from '@sinclair/typebox';
import type { Platform } from '../../platform.js';
import { tenantOf } from '../plugins/auth.js';
import { InferBody, OipError, RepositoryIndexBody, RepositoryModelBody, V2ModelParams, V2VersionParams } from '../schemas/inference-v2.js';

const oip = { errorFormat: 'oip' as const };
const publicRoute = (operation: string) => ({ ...oip, operation, auth: 'public' as const });
const tenantRoute = (operation: string, limitClass: 'predict' | 'default' = 'default') => ({ ...oip, operation, auth: 'tenant' as const, limitClass });
const tags = ['inference (v2)'];
// Triton clients may send these repository requests without a body.
const emptyBodyIsEmptyObject = async (request: { body: unknown }) => {
  request.body ??= {};
};
const errors = (...statuses: number[]): Record<number, TSchema> => Object.fromEntries(statuses.map((s) => [s, OipError]));

/** The Open Inference Protocol (KServe v2) and Triton's model-repository extension, over the caller's own models. */
export const inferenceV2Routes: FastifyPluginAsyncTypebox<{ platform: Platform; version: string }> = async (app, { platform, version }) => {
  const { oip: service } = platform;

  app.get('/v2/health/live', { config: publicRoute('inference.live'), schema: { tags } }, async () => ({ live: true }));

  app.get(
    '/v2/health/ready',
    { config: publicRoute('inference.ready'), schema: { tags, description: '200 {"ready": true}; 503 {"ready": false} while the database or artifact store is unreachable.' } },
    async (_request, reply) => {
      const checks = await platform.readiness();
      const ready = Object.values(checks).every((v) => v === 'ok');
      if (!ready) reply.code(503).header('retry-after', '2');
      return { ready };
    },
  );

  app.get('/v2', { config: publicRoute('inference.server'), schema: { tags } }, async () => ({
    name: 'tenantml',
    version,
    extensions: ['model_repository'],
  }));

  app.get(
    '/v2/models/:name',
    { config: tenantRoute('inference.metadata'), schema: { tags, params: V2ModelParams, response: errors(401, 404) } },
    async (request) => service.metadata(tenantOf(request).tenantId, request.params.name),
  );
  app.get(
    '/v2/models/:name/versions/:version',
    { config: tenantRoute('inference.metadata'), schema: { tags, params: V2VersionParams, response: errors(401, 404) } },
    async (request) => service.metadata(tenantOf(request).tenantId, request.params.name, request.params.version),
  );

  app.get(
    '/v2/models/:name/ready',
    { config: tenantRoute('inference.modelReady'), schema: { tags, params: V2ModelParams, response: errors(401, 404) } },
    async (request) => service.ready(tenantOf(request).tenantId, request.params.name),
  );
  app.get(
    '/v2/models/:name/versions/:version/ready',
    { config: tenantRoute('inference.modelReady'), schema: { tags, params: V2VersionParams, response: errors(401, 404) } },
    async (request) => service.ready(tenantOf(request).tenantId, request.params.name, request.params.version),
  );

  const inferDescription =
    'One input [rows, features] (or one input per feature, named after it) of FP32/FP64/INT64/INT32/BOOL holding the encoded features; answers the output `predict` (FP32, [rows]).';
  app.post(
    '/v2/models/:name/infer',
    {
      config: tenantRoute('inference.infer', 'predict'),
      schema: { tags, params: V2ModelParams, body: InferBody, description: inferDescription, response: errors(400, 401, 404, 503) },
    },
    async (request) => service.infer(tenantOf(request), request.params.name, request.body),
  );
  app.post(
    '/v2/models/:name/versions/:version/infer',
    {
      config: tenantRoute('inference.infer', 'predict'),
      schema: { tags, params: V2VersionParams, body: InferBody, description: inferDescription, response: errors(400, 401, 404, 503) },
    },
    async (request) => service.infer(tenantOf(request), request.params.name, request.body, request.params.version),
  );

  app.post(
    '/v2/repository/index',
    {
      preValidation: emptyBodyIsEmptyObject,
      config: tenantRoute('inference.repositoryIndex'),
      schema: { tags, body: RepositoryIndexBody, description: "The caller's models; READY when loaded on this replica (any model loads on its first request)." },
    },
    async (request) => service.repositoryIndex(tenantOf(request).tenantId, request.body?.ready === true),
  );
  app.post(
    '/v2/repository/models/:name/load',
    {
      preValidation: emptyBodyIsEmptyObject,
      config: tenantRoute('inference.load'),
      schema: { tags, params: V2ModelParams, body: RepositoryModelBody, description: 'Loads the serving version into this replica\'s cache.', response: errors(401, 404, 503) },
    },
    async (request) => {
      await service.load(tenantOf(request).tenantId, request.params.name);
      return {};
    },
  );
  app.post(
    '/v2/repository/models/:name/unload',
    {
      preValidation: emptyBodyIsEmptyObject,
      config: tenantRoute('inference.unload'),
      schema: { tags, params: V2ModelParams, body: RepositoryModelBody, description: "Evicts the model's versions from every replica's cache.", response: errors(401, 404) },
    },
    async (request) => {
      await service.unload(tenantOf(request).tenantId, request.params.name);
      return {};
    },
  );
};
