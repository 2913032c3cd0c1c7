import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { effectiveLimits, type Tenant } from '../../tenancy/tenant.js';
import type { Platform } from '../../platform.js';
import { errorResponses, PageQuery } from '../schemas/common.js';
import { CreateTenant, KeyParams, PatchTenant, TenantBody, TenantIdParams } from '../schemas/tenants.js';

const operator = (operation: string) => ({ operation, auth: 'operator' as const });
const tags = ['operator'];

function present(t: Tenant) {
  return { ...t, effectiveLimits: { ...effectiveLimits(t.limits) } };
}

/** Operator routes: tenants, their keys, their purge. */
export const adminTenantRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const { tenants, purge } = platform;

  app.post(
    '/v1/admin/tenants',
    {
      config: operator('tenants.create'),
      schema: {
        tags,
        body: CreateTenant,
        response: { 201: Type.Object({ tenant: TenantBody, apiKey: Type.String(), keyId: Type.String() }), ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const created = await tenants.create(request.body);
      reply.code(201);
      return { tenant: present(created.tenant), apiKey: created.apiKey, keyId: created.keyId };
    },
  );

  app.get(
    '/v1/admin/tenants',
    { config: operator('tenants.list'), schema: { tags, querystring: PageQuery } },
    async (request) => {
      const page = await tenants.list(request.query.limit, request.query.cursor);
      return { tenants: page.tenants.map(present), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/admin/tenants/:id',
    { config: operator('tenants.read'), schema: { tags, params: TenantIdParams, response: { 200: TenantBody, ...errorResponses(404) } } },
    async (request) => present(await tenants.get(request.params.id)),
  );

  app.patch(
    '/v1/admin/tenants/:id',
    { config: operator('tenants.update'), schema: { tags, params: TenantIdParams, body: PatchTenant, response: { 200: TenantBody, ...errorResponses(400, 404) } } },
    async (request) => present(await tenants.patch(request.params.id, request.body)),
  );

  app.delete(
    '/v1/admin/tenants/:id',
    { config: operator('tenants.purge'), schema: { tags, params: TenantIdParams } },
    async (request) => purge.purge(request.params.id),
  );

  app.post(
    '/v1/admin/tenants/:id/keys',
    {
      config: operator('tenants.keys.issue'),
      schema: { tags, params: TenantIdParams, body: Type.Optional(Type.Object({ name: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false })) },
    },
    async (request, reply) => {
      const key = await tenants.issueKey(request.params.id, request.body?.name);
      reply.code(201);
      return key;
    },
  );

  app.get(
    '/v1/admin/tenants/:id/keys',
    { config: operator('tenants.keys.list'), schema: { tags, params: TenantIdParams } },
    async (request) => ({ keys: await tenants.listKeys(request.params.id) }),
  );

  app.delete(
    '/v1/admin/tenants/:id/keys/:keyId',
    { config: operator('tenants.keys.revoke'), schema: { tags, params: KeyParams } },
    async (request, reply) => {
      await tenants.revokeKey(request.params.id, request.params.keyId);
      reply.code(204);
    },
  );
};
