import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** The full API as OpenAPI at `/openapi.json`, interactive docs at `/docs`. */
export const openApiPlugin = fp(
  async (app: FastifyInstance, opts: { version: string }) => {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'tenantml',
          version: opts.version,
          description: 'Multi-tenant ML platform: datasets, per-tenant GBDT models, serving, RAG. Tenant routes take a tenant key; /v1/admin routes the operator key.',
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { config: { operation: 'ops.openapi', auth: 'public' }, schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'tenantml-openapi' },
);
