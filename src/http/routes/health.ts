import type { FastifyPluginAsync } from 'fastify';
import { errors } from '../../errors.js';
import type { Platform } from '../../platform.js';

const ops = (operation: string) => ({ operation, auth: 'public' as const });

/** Liveness and readiness for load balancers and orchestrators (no key). */
export const healthRoutes: FastifyPluginAsync<{ platform: Platform }> = async (app, { platform }) => {
  app.get('/healthz', { config: ops('ops.health') }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: ops('ops.ready') }, async () => {
    const checks = await platform.readiness();
    const failed = Object.entries(checks).filter(([, v]) => v !== 'ok');
    if (failed.length > 0) throw errors.unavailable(`not ready: ${failed.map(([k, v]) => `${k}: ${v}`).join('; ')}`, 2);
    return { status: 'ready', checks };
  });
};
