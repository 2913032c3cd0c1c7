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
    const admit = (request: FastifyRequest, auth: 'tenant' | 'operator', principal: Principal): Error | undefined => {
      if (auth === 'tenant' && principal.kind !== 'tenant') return errors.forbidden('the operator key cannot call tenant routes; use a tenant API key');
      if (auth === 'operator' && principal.kind !== 'operator') return errors.forbidden('this route needs the operator key');
      request.principal = principal;
      return undefined;
    };
    // Callback style: a key verified before is admitted without a promise.
    app.addHook('onRequest', (request, _reply, done) => {
      const auth = request.routeOptions.config.auth ?? 'public';
      if (auth === 'public') return done();
      const known = opts.authenticator.authenticateNow(request.headers.authorization);
      if (known !== undefined) return done(admit(request, auth, known));
      opts.authenticator.authenticate(request.headers.authorization).then((principal) => done(admit(request, auth, principal)), done);
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
