import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Platform } from '../../platform.js';
import { tenantOf } from '../plugins/auth.js';
import { errorResponses } from '../schemas/common.js';
import { ForecastBody, ModelParams, PredictBody } from '../schemas/models.js';

const tenant = (operation: string) => ({ operation, auth: 'tenant' as const, limitClass: 'predict' as const });
const tags = ['models'];

/** Predictions and forecasts with the tenant's production model (or the global one as a fallback). */
export const predictRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const { predictions } = platform.models;

  app.post(
    '/v1/models/:name/predict',
    {
      config: tenant('models.predict'),
      schema: {
        tags,
        params: ModelParams,
        body: PredictBody,
        description: '{rows:[{feature: value}]} or {instances:[[...]]} in the model\'s feature order; null or absent is missing. Predictions are on the response scale.',
        response: errorResponses(400, 404),
      },
    },
    async (request) => predictions.predict(tenantOf(request).tenantId, request.params.name, request.body),
  );

  app.post(
    '/v1/models/:name/forecast',
    {
      config: tenant('models.forecast'),
      schema: {
        tags,
        params: ModelParams,
        body: ForecastBody,
        description: 'Recursive multi-step forecast of one series; without history, the series\' stored rows are used.',
        response: errorResponses(400, 404),
      },
    },
    async (request) => predictions.forecast(tenantOf(request).tenantId, request.params.name, request.body),
  );
};
