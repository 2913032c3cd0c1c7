import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform.js';
import { tenantOf } from '../plugins/auth.js';
import { errorResponses, PageQuery } from '../schemas/common.js';
import { JobParams } from '../schemas/models.js';

const tenant = (operation: string) => ({ operation, auth: 'tenant' as const, limitClass: 'default' as const });
const tags = ['jobs'];

/** Training jobs: state, progress, cancellation. */
export const jobRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const { jobs } = platform.models;

  app.get('/v1/jobs', { config: tenant('jobs.list'), schema: { tags, querystring: PageQuery } }, async (request) =>
    jobs.list(tenantOf(request).tenantId, request.query.limit, request.query.cursor),
  );

  app.get('/v1/jobs/:id', { config: tenant('jobs.read'), schema: { tags, params: JobParams, response: errorResponses(404) } }, async (request) =>
    jobs.get(tenantOf(request).tenantId, request.params.id),
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      config: tenant('jobs.cancel'),
      schema: { tags, params: JobParams, description: 'A queued job is cancelled at once; a running one stops within a boosting round. 409 when it already finished.', response: errorResponses(404, 409) },
    },
    async (request) => jobs.cancel(tenantOf(request).tenantId, request.params.id),
  );
};
