import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { errors } from '../../errors.js';
import type { Authenticator, Principal } from '../../tenancy/authenticator.js';

export type TenantPrincipal = Extract<Principal, { kind: 'tenant' }>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, resolved once from the key; null on public routes. */
    principal: Principal | null;
  }
}

/**
 * Resolves the caller once per request (invariant 1: the tenant comes from the
 * key, never from the request). Tenant routes accept only tenant keys, operator
 * routes only the operator key, so neither can act as the other by accident.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, opts: { authenticator: Authenticator }) => {
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      const auth = request.routeOptions.config.auth ?? 'public';
      if (auth === 'public') return;
      const principal = await opts.authenticator.authenticate(request.headers.authorization);
      if (auth === 'tenant' && principal.kind !== 'tenant')
        throw errors.forbidden('the operator key cannot call tenant routes; use a tenant API key');
      if (auth === 'operator' && principal.kind !== 'operator') throw errors.forbidden('this route needs the operator key');
      request.principal = principal;
    });
  },
  { name: 'tenantml-auth' },
);

/** The calling tenant of a tenant route (the auth hook guarantees one). */
export function tenantOf(request: FastifyRequest): TenantPrincipal {
  const p = request.principal;
  if (p?.kind !== 'tenant') throw errors.unauthorized();
  return p;
}
