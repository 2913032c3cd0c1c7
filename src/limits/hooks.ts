/**
 * Events the limits domain reports, so the HTTP layer can feed Prometheus
 * counters and histograms without this code depending on prom-client.
 */
import type { LimiterModeChange } from './degrading-rate-limiter.js';
import type { RouteClass } from './tenant-limits.js';

/** Why a request was refused at the gateway. */
export type ThrottleReason = 'rate' | 'concurrency' | 'quota';

/** The two scheduling lanes: small interactive work, and everything large. */
export type Lane = 'realtime' | 'batch';

/** One admission decision at the gateway (rate limit or quota). */
export interface DecisionEvent {
  tenantId: string;
  routeClass: RouteClass;
  allowed: boolean;
  /** Set when `allowed` is false. */
  reason?: ThrottleReason;
  cost: number;
}

/** A task the scheduler refused to queue or dropped from its queue. */
export interface ShedEvent {
  tenantId: string;
  lane: Lane;
  /** `deadline`: it would not finish in time (503); `queue_full`: the tenant's own backlog is full (429). */
  reason: 'deadline' | 'queue_full';
  estimatedWaitMs: number;
}

/** A task leaving the queue to run; `waitMs` is what a queued-time histogram observes. */
export interface QueuedEvent {
  tenantId: string;
  lane: Lane;
  waitMs: number;
  cost: number;
}

/** Optional callbacks; each is called synchronously and must be cheap. */
export interface LimitsHooks {
  onDecision?(event: DecisionEvent): void;
  onShed?(event: ShedEvent): void;
  onQueued?(event: QueuedEvent): void;
  /** The rate limiter switched between the shared store and the local fallback. */
  onModeChange?(change: LimiterModeChange): void;
}

/** Hooks that fan out to listeners added later (metrics, usage counters), so producers are built once. */
export interface HooksRelay extends LimitsHooks {
  /** Adds a listener; returns its removal. */
  add(listener: LimitsHooks): () => void;
}

/** Builds an empty relay; each listener is called in turn and isolated from the others' errors. */
export function createHooksRelay(): HooksRelay {
  const listeners = new Set<LimitsHooks>();
  const fanOut =
    <K extends keyof LimitsHooks>(name: K) =>
    (event: Parameters<NonNullable<LimitsHooks[K]>>[0]) => {
      for (const listener of listeners) emit(listener, name, event);
    };
  return {
    onDecision: fanOut('onDecision'),
    onShed: fanOut('onShed'),
    onQueued: fanOut('onQueued'),
    onModeChange: fanOut('onModeChange'),
    add(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Calls a hook, so that a broken metrics callback can never break limiting. */
export function emit<K extends keyof LimitsHooks>(
  hooks: LimitsHooks | undefined,
  name: K,
  event: Parameters<NonNullable<LimitsHooks[K]>>[0],
): void {
  const hook = hooks?.[name] as ((this: LimitsHooks, e: typeof event) => void) | undefined;
  if (!hook || !hooks) return;
  try {
    hook.call(hooks, event);
  } catch {
    // Metrics are best effort by design.
  }
}
