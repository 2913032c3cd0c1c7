import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { RateLimitGate } from '../../limits/rate-limit-gate.js';
import { rateLimitedError } from '../../limits/rate-limit-gate.js';
import type { Authenticator } from '../../tenancy/authenticator.js';

/**
 * Per-tenant rate limits at the gateway. Runs after the auth plugin (which set
 * `request.principal`): charges the route's class bucket (`config.limitClass`,
 * default `default`), refuses with 429 `rate_limited` + `Retry-After`, and puts
 * `RateLimit-Policy` and `RateLimit` on every response to a tenant — errors and
 * 404s included. A tenant key on a path that matches no route is charged too,
 * so probing unknown paths is no way around the limit.
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, opts: { gate: RateLimitGate; authenticator: Authenticator }) => {
    async function unmatchedRouteTenant(request: FastifyRequest): Promise<void> {
      if (!request.is404 || !request.headers.authorization) return;
      try {
        request.principal = await opts.authenticator.authenticate(request.headers.authorization);
      } catch {
        // Not a valid key: the 404 stays anonymous.
      }
    }

    async function checkAsync(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      if (!request.principal) await unmatchedRouteTenant(request);
      const principal = request.principal;
      if (principal?.kind !== 'tenant') return;
      const routeClass = request.routeOptions.config?.limitClass ?? 'default';
      const result = await opts.gate.check({ tenantId: principal.tenantId, limits: principal.limits, routeClass });
      reply.headers(result.headers);
      if (!result.allowed) throw rateLimitedError(result);
    }

    // Callback style: a decision made in this process costs no promise. The headers go on the reply with the decision
    // (no onSend hook per response): Fastify keeps them on whatever answer follows, errors and 404s included.
    app.addHook('onRequest', (request, reply, done) => {
      const principal = request.principal;
      if (principal?.kind === 'tenant') {
        const routeClass = request.routeOptions.config?.limitClass ?? 'default';
        const result = opts.gate.checkNow({ tenantId: principal.tenantId, limits: principal.limits, routeClass });
        if (result !== undefined) {
          reply.headers(result.headers);
          return done(result.allowed ? undefined : rateLimitedError(result));
        }
      } else if (principal !== null || !request.is404) return done();
      checkAsync(request, reply).then(() => done(), done);
    });
  },
  { name: 'tenantml-rate-limit', dependencies: ['tenantml-auth'] },
);
