import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform.js';
import { errorResponses } from '../schemas/common.js';
import { GlobalTrainBody, ModelParams } from '../schemas/models.js';

const operator = (operation: string) => ({ operation, auth: 'operator' as const });
const tags = ['operator'];

/** Operator routes: train and inspect global models. */
export const adminGlobalModelRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const { global } = platform.models;

  app.post(
    '/v1/admin/global-models',
    {
      config: operator('globalModels.train'),
      schema: {
        tags,
        body: GlobalTrainBody,
        description:
          'Trains a new version synchronously from every tenant with allowPooledTraining, each contributing its own dataset named `dataset`, with the tenant as a categorical feature. Answers 201 with the version, its lineage and the tenants skipped.',
        response: errorResponses(400, 401, 403),
      },
    },
    async (request, reply) => {
      const result = await global.train(request.body);
      reply.code(201);
      return result;
    },
  );

  app.get('/v1/admin/global-models', { config: operator('globalModels.list') }, async () => ({ models: await global.store.list() }));

  app.get(
    '/v1/admin/global-models/:name',
    { config: operator('globalModels.read'), schema: { tags, params: ModelParams, response: errorResponses(404) } },
    async (request) => global.store.describe(request.params.name),
  );
};
