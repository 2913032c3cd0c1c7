import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Platform } from '../../platform.js';
import { tenantOf } from '../plugins/auth.js';
import { errorResponses } from '../schemas/common.js';
import { AdminUsageBody, TenantUsageBody } from '../schemas/usage.js';

// The tenant is the key's: a tenant id in the query is refused, not ignored.
const NoQuery = Type.Object({}, { additionalProperties: false });

/** Usage: the caller's own limits and standing, and the operator's view of every tenant. */
export const usageRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const { usage } = platform.limits;

  app.get(
    '/v1/usage',
    {
      config: { operation: 'usage.read', auth: 'tenant' },
      schema: { tags: ['usage'], querystring: NoQuery, response: { 200: TenantUsageBody, ...errorResponses(401, 403, 429) } },
    },
    async (request) => usage.tenant(tenantOf(request)),
  );

  app.get(
    '/v1/admin/usage',
    {
      config: { operation: 'usage.admin', auth: 'operator' },
      schema: { tags: ['operator'], response: { 200: AdminUsageBody, ...errorResponses(401, 403) } },
    },
    async () => usage.allTenants(),
  );
};
