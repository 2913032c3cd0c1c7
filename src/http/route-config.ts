/**
 * What every route declares in its `config`: the operation it performs (one
 * name for logs, metrics, rate-limit classes and audit), who may call it, and
 * which error shape its clients speak.
 */
import type { RouteClass } from '../limits/tenant-limits.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** e.g. `datasets.create`, `models.predict`. */
    operation?: string;
    /** `tenant`: a tenant key; `operator`: the admin key; `public`: no key. */
    auth?: 'tenant' | 'operator' | 'public';
    /** `oip`: the Open Inference Protocol's `{"error": "…"}`; default: tenantml's error object. */
    errorFormat?: 'tenantml' | 'oip';
    /** Rate-limit class of the route; defaults from the operation's domain. */
    limitClass?: RouteClass;
  }
}

export type { RouteClass };
