import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Platform } from '../platform.js';
import './route-config.js';
import { authPlugin } from './plugins/auth.js';
import { batchedWritesPlugin } from './plugins/batched-writes.js';
import { bodyParsersPlugin } from './plugins/body-parsers.js';
import { errorHandlerPlugin } from './plugins/error-handler.js';
import { limitsMetricsPlugin } from './plugins/limits-metrics.js';
import { metricsPlugin } from './plugins/metrics.js';
import { openApiPlugin } from './plugins/openapi.js';
import { rateLimitPlugin } from './plugins/rate-limit.js';
import { adminTenantRoutes } from './routes/admin-tenants.js';
import { datasetRoutes } from './routes/datasets.js';
import { healthRoutes } from './routes/health.js';
import { usageRoutes } from './routes/usage.js';
import { adminGlobalModelRoutes } from './routes/admin-global-models.js';
import { adminServingRoutes } from './routes/admin-serving.js';
import { inferenceV2Routes } from './routes/inference-v2.js';
import { jobRoutes } from './routes/jobs.js';
import { modelRoutes } from './routes/models.js';
import { predictRoutes } from './routes/predict.js';
import { namespaceRoutes } from './routes/namespaces.js';
import { openAiRoutes } from './routes/openai.js';
import { installValidators } from './validation.js';

export const API_VERSION = '0.1.0';

export interface RegisteredRoute {
  method: string;
  url: string;
  auth: 'tenant' | 'operator' | 'public';
  operation: string | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    registeredRoutes: RegisteredRoute[];
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Request ids this process makes: a random prefix per process (unique across
 * replicas) and a counter. A UUID per request built its text from 16
 * concatenations, garbage on every request of the predict path.
 */
function requestIdGenerator(): () => string {
  const prefix = randomBytes(6).toString('hex');
  let count = 0;
  return () => `${prefix}-${(++count).toString(36)}`;
}

export interface AppOptions {
  /** pino logger options, or false for none (tests). */
  logger?: boolean | Record<string, unknown>;
}

/** Builds the HTTP app over a platform. It never listens: `main.ts` does. */
export async function buildApp(platform: Platform, options: AppOptions = {}): Promise<FastifyInstance> {
  const nextRequestId = requestIdGenerator();
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: platform.config.logLevel,
            // Keys and bodies never reach the logs.
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], remove: true },
            ...(typeof options.logger === 'object' ? options.logger : {}),
          },
    bodyLimit: platform.config.maxJsonBodyBytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : nextRequestId();
    },
    requestIdHeader: false,
    routerOptions: { ignoreTrailingSlash: true },
  });
  installValidators(app);
  // Every route, as registered: the isolation suite checks each one has an attack row.
  const routes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const method of methods) if (method !== 'HEAD') routes.push({ method, url: r.url, auth: r.config?.auth ?? 'public', operation: r.config?.operation });
  });
  // Callback-style hooks on every response: no promise per request.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });

  await app.register(errorHandlerPlugin);
  await app.register(openApiPlugin, { version: API_VERSION });
  await app.register(metricsPlugin, { registry: platform.metrics });
  await app.register(bodyParsersPlugin, { maxUploadBytes: platform.config.maxUploadBytes });
  await app.register(limitsMetricsPlugin, { registry: platform.metrics, limits: platform.limits });
  await app.register(authPlugin, { authenticator: platform.authenticator });
  // After auth: the rate limit needs the tenant the key resolved to.
  await app.register(rateLimitPlugin, { gate: platform.limits.gate, authenticator: platform.authenticator });
  await app.register(batchedWritesPlugin);

  await app.register(healthRoutes, { platform });
  await app.register(adminTenantRoutes, { platform });
  await app.register(datasetRoutes, { platform });
  await app.register(usageRoutes, { platform });
  await app.register(modelRoutes, { platform });
  await app.register(predictRoutes, { platform });
  await app.register(jobRoutes, { platform });
  await app.register(adminGlobalModelRoutes, { platform });
  await app.register(inferenceV2Routes, { platform, version: API_VERSION });
  await app.register(adminServingRoutes, { platform });
  await app.register(namespaceRoutes, { platform });
  await app.register(openAiRoutes, { platform });
  return app;
}
