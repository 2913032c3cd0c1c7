import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, type Registry } from 'prom-client';
import { RequestPathCounter, RequestPathHistogram } from '../../metrics/request-path-metrics.js';
import type { Limits } from '../../limits/create-limits.js';

/**
 * Prometheus metrics of noisy-neighbour protection, fed by the limits hooks:
 * admitted and throttled requests per tenant (by reason), scheduler queue
 * time and shedding, and whether rate limits are shared or local right now.
 */
export const limitsMetricsPlugin = fp(
  async (app: FastifyInstance, opts: { registry: Registry; limits: Limits }) => {
    const registers = [opts.registry];
    const admitted = new RequestPathCounter({
      name: 'tenantml_admitted_total',
      help: 'Requests admitted by the rate limiter, by tenant and route class',
      labelNames: ['tenant', 'route_class'],
      registers,
    });
    const throttled = new Counter({
      name: 'tenantml_throttled_total',
      help: 'Requests refused with 429, by tenant and reason (rate, quota, concurrency)',
      labelNames: ['tenant', 'reason'] as const,
      registers,
    });
    const shed = new Counter({
      name: 'tenantml_shed_total',
      help: 'Compute tasks shed by the scheduler, by tenant, lane and reason (deadline → 503, queue_full → 429)',
      labelNames: ['tenant', 'lane', 'reason'] as const,
      registers,
    });
    const queueWait = new RequestPathHistogram({
      name: 'tenantml_queue_wait_seconds',
      help: 'Time compute tasks waited for a slot, by tenant and lane',
      labelNames: ['tenant', 'lane'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
      registers,
    });
    const fallbackSwitches = new Counter({
      name: 'tenantml_ratelimit_fallback_switches_total',
      help: 'Switches of the rate limiter between shared (Redis) and local limits, by the mode switched to',
      labelNames: ['mode'] as const,
      registers,
    });
    const { limiter } = opts.limits;
    new Gauge({
      name: 'tenantml_ratelimit_fallback',
      help: 'Whether rate limits are enforced per process (1, the shared store is unreachable) or shared (0)',
      registers,
      collect() {
        this.set(limiter.mode === 'local-fallback' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tenantml_ratelimit_mode',
      help: 'The rate limiter mode now: memory (single process), redis (shared) or local-fallback',
      labelNames: ['mode'] as const,
      registers,
      collect() {
        for (const mode of ['memory', 'redis', 'local-fallback'] as const) this.set({ mode }, limiter.mode === mode ? 1 : 0);
      },
    });

    const remove = opts.limits.hooks.add({
      onDecision(e) {
        if (e.allowed) admitted.inc(e.tenantId, e.routeClass);
        else throttled.inc({ tenant: e.tenantId, reason: e.reason ?? 'rate' });
      },
      onShed(e) {
        shed.inc({ tenant: e.tenantId, lane: e.lane, reason: e.reason });
        if (e.reason === 'queue_full') throttled.inc({ tenant: e.tenantId, reason: 'concurrency' });
      },
      onQueued(e) {
        queueWait.observe(e.waitMs / 1000, e.tenantId, e.lane);
      },
      onModeChange(change) {
        fallbackSwitches.inc({ mode: change.mode });
      },
    });
    app.addHook('onClose', async () => {
      remove();
    });
  },
  { name: 'tenantml-limits-metrics' },
);
