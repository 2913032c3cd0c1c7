/** Settings of the predict path's model cache, read from the environment by `loadConfig`. */
import type { PolicyName } from './cache-policy.js';

/** A tenant's model by name, as written in `TENANTML_MODEL_WARM` (`<tenant>/<model>`). */
export interface ModelRef {
  tenantId: string;
  model: string;
}

/** The serving section of `Config`. */
export interface ServingConfig {
  /** Byte budget of resident models (`TENANTML_MODEL_CACHE_BYTES`). */
  cacheBytes: number;
  /** Share (0, 1] of the budget one tenant may hold (`TENANTML_MODEL_CACHE_TENANT_SHARE`, in percent). */
  tenantMaxShare: number;
  /** Eviction policy (`TENANTML_MODEL_CACHE_POLICY`). */
  policy: PolicyName;
  /** Worker threads that verify and compile loaded models; 0 loads on the event loop (`TENANTML_MODEL_LOAD_THREADS`, default 1). */
  loadThreads?: number;
  /** Models loaded before the server reports ready (`TENANTML_MODEL_WARM`). */
  warm: ModelRef[];
}

/** 256 MiB: roughly a thousand 100-tree models. */
export const DEFAULT_MODEL_CACHE_BYTES = 256 * 1024 * 1024;

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Parses `<tenant>/<model>`; null when it is not one. */
export function parseModelRef(text: string): ModelRef | null {
  const parts = text.split('/');
  if (parts.length !== 2 || !parts.every((p) => SEGMENT.test(p))) return null;
  return { tenantId: parts[0]!, model: parts[1]! };
}
