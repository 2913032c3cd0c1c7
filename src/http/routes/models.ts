import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errors } from '../../errors.js';
import { exportXgboostJson, deserializeModel } from '../../gbdt/index.js';
import type { Platform } from '../../platform.js';
import { tenantOf } from '../plugins/auth.js';
import { errorResponses, PageQuery } from '../schemas/common.js';
import { AliasBody, AliasParams, ModelParams, PolicyBody, TrainBody, VersionParams } from '../schemas/models.js';

const tenant = (operation: string, limitClass: 'train' | 'default' = 'default') => ({ operation, auth: 'tenant' as const, limitClass });
const tags = ['models'];

/** Tenant models: train (a job), registry, aliases, policy, XGBoost import/export. */
export const modelRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const { models, config } = platform;

  app.post(
    '/v1/models',
    {
      config: tenant('models.train', 'train'),
      schema: {
        tags,
        body: TrainBody,
        description: 'Queues a training job after checking the request against the dataset (bad input is a 400 here, not a failed job). Poll GET /v1/jobs/:id.',
        response: errorResponses(400, 404),
      },
    },
    async (request, reply) => {
      const job = await models.jobs.submit(tenantOf(request).tenantId, request.body);
      reply.code(202);
      return { job };
    },
  );

  app.get('/v1/models', { config: tenant('models.list'), schema: { tags, querystring: PageQuery } }, async (request) =>
    models.registry.list(tenantOf(request).tenantId, request.query.limit, request.query.cursor),
  );

  app.get(
    '/v1/models/:name',
    { config: tenant('models.read'), schema: { tags, params: ModelParams, response: errorResponses(404) } },
    async (request) => {
      const { versionList, ...detail } = await models.describe(tenantOf(request).tenantId, request.params.name);
      return { ...detail, versions: versionList };
    },
  );

  app.delete(
    '/v1/models/:name',
    { config: tenant('models.delete'), schema: { tags, params: ModelParams, response: errorResponses(404) } },
    async (request) => ({ deleted: await models.registry.deleteModel(tenantOf(request).tenantId, request.params.name) }),
  );

  app.get(
    '/v1/models/:name/versions/:version',
    { config: tenant('models.versions.read'), schema: { tags, params: VersionParams, response: errorResponses(404) } },
    async (request) => models.registry.getVersion(tenantOf(request).tenantId, request.params.name, request.params.version),
  );

  app.delete(
    '/v1/models/:name/versions/:version',
    {
      config: tenant('models.versions.delete'),
      schema: { tags, params: VersionParams, description: 'Deletes a version and its artifact; an alias on it moves to the newest remaining version.', response: errorResponses(404) },
    },
    async (request, reply) => {
      await models.registry.deleteVersion(tenantOf(request).tenantId, request.params.name, request.params.version);
      reply.code(204);
    },
  );

  app.get(
    '/v1/models/:name/versions/:version/xgboost.json',
    { config: tenant('models.export'), schema: { tags, params: VersionParams, response: errorResponses(404) } },
    async (request, reply) => {
      const bytes = await models.registry.readArtifact(tenantOf(request).tenantId, request.params.name, request.params.version);
      reply.type('application/json');
      return exportXgboostJson(deserializeModel(bytes));
    },
  );

  app.post(
    '/v1/models/:name/aliases/:alias',
    {
      config: tenant('models.alias'),
      schema: { tags, params: AliasParams, body: AliasBody, description: 'Points an alias at a version; `production` is what predict serves (promote / roll back).', response: errorResponses(400, 404) },
    },
    async (request) => ({
      aliases: await models.registry.setAlias(tenantOf(request).tenantId, request.params.name, request.params.alias, request.body.version),
    }),
  );

  app.put(
    '/v1/models/:name/policy',
    {
      config: tenant('models.policy'),
      schema: { tags, params: ModelParams, body: PolicyBody, description: 'own (default): own model, global as fallback; global: the global model first; best: the lower holdout error on your rows.' },
    },
    async (request) => {
      await models.registry.setPolicy(tenantOf(request).tenantId, request.params.name, request.body.policy);
      return { model: request.params.name, policy: request.body.policy };
    },
  );

  // XGBoost writes bare NaN tokens, which the JSON body parser rejects: this route takes the raw bytes.
  await app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: config.maxJsonBodyBytes }, (_req, body, done) => done(null, body));
    scope.withTypeProvider<TypeBoxTypeProvider>().post(
      '/v1/models/:name/versions',
      {
        config: tenant('models.import'),
        schema: { tags, params: ModelParams, description: 'Body: a model saved by XGBoost (save_model("m.json")), as application/json.', response: errorResponses(400, 415) },
      },
      async (request, reply) => {
        if (!Buffer.isBuffer(request.body)) throw errors.unsupportedMediaType(String(request.headers['content-type'] ?? '(none)'), ['application/json']);
        const version = await models.importXgboost(tenantOf(request).tenantId, request.params.name, request.body);
        reply.code(201);
        return version;
      },
    );
  });
};
