import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';
import { RequestPathCounter, RequestPathHistogram } from '../../metrics/request-path-metrics.js';

// Status codes as label text, made once each.
const statusTexts = new Map<number, string>();
function statusText(code: number): string {
  let text = statusTexts.get(code);
  if (text === undefined) {
    text = String(code);
    statusTexts.set(code, text);
  }
  return text;
}

/** HTTP metrics per operation (and tenant), and `GET /metrics` for Prometheus. */
export const metricsPlugin = fp(
  async (app: FastifyInstance, opts: { registry: Registry }) => {
    const duration = new RequestPathHistogram({
      name: 'tenantml_http_request_duration_seconds',
      help: 'HTTP request duration by operation and status',
      labelNames: ['operation', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [opts.registry],
    });
    const requests = new RequestPathCounter({
      name: 'tenantml_http_requests_total',
      help: 'HTTP requests by operation, status and tenant',
      labelNames: ['operation', 'status', 'tenant'],
      registers: [opts.registry],
    });
    app.addHook('onResponse', (request, reply, done) => {
      try {
        const operation = request.routeOptions.config?.operation ?? 'unknown';
        const status = statusText(reply.statusCode);
        duration.observe(reply.elapsedTime / 1000, operation, status);
        const p = request.principal;
        requests.inc(operation, status, p?.kind === 'tenant' ? p.tenantId : '');
      } finally {
        done();
      }
    });
    app.get('/metrics', { config: { operation: 'ops.metrics', auth: 'public' }, schema: { hide: true } }, async (_req, reply) => {
      reply.header('content-type', opts.registry.contentType);
      return opts.registry.metrics();
    });
  },
  { name: 'tenantml-metrics' },
);
