import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform.js';
import { errorResponses } from '../schemas/common.js';

/** Operator view of the model multiplexer on this replica. */
export const adminServingRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  app.get(
    '/v1/admin/serving',
    {
      config: { operation: 'serving.inspect', auth: 'operator' },
      schema: {
        tags: ['operator'],
        description:
          "This replica's model cache: budget, resident and transient bytes, each loaded model (tenant, model, version, size, hits, pins, last use; most recent first) per-tenant counters, and the pool of dropped models' memory that cold loads read into (layoutBuffers).",
        response: errorResponses(401, 403),
      },
    },
    async () => ({ ...platform.serving.cache.snapshot(), stats: platform.serving.cache.stats(), layoutBuffers: platform.serving.layoutBuffers() }),
  );
};
