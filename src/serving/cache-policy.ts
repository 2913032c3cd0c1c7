/**
 * Eviction policies of the model cache. A policy gives every resident entry a
 * priority (the lowest is evicted first) and decides whether a freshly loaded
 * entry is worth the entries it would push out (admission).
 *
 * - `lru`: priority = recency. Admits everything.
 * - `gdsf`: Greedy-Dual-Size-Frequency with a frequency history that outlives
 *   eviction (TinyLFU-style, halved periodically so popularity can shift):
 *   priority = L + frequency × loadCost / size, where L ("inflation") rises to
 *   the priority of each evicted entry, so entries not touched for a while age
 *   out. A newly loaded entry is admitted only if it is worth more than every
 *   entry it would displace; otherwise it serves its waiting requests and is
 *   dropped. That is the guard against thrashing when many cold tenants
 *   interleave: a sweep of one-off requests cannot flush the hot set.
 */

/** What a policy sees of a cache entry. */
export interface PolicyEntry {
  readonly id: string;
  readonly sizeBytes: number;
  /** Milliseconds the last load took (or the loader's estimate). */
  readonly loadCostMs: number;
  priority: number;
}

/** Decides eviction order and admission of the model cache. */
export interface EvictionPolicy {
  readonly name: PolicyName;
  /** Counts one request for `id`, hit or miss. */
  recordAccess(id: string): void;
  /** Sets `entry.priority` after it was inserted or hit. */
  touch(entry: PolicyEntry): void;
  /** Notes that `entry` was evicted to make room. */
  onEvict(entry: PolicyEntry): void;
  /** Whether `candidate` (priority already set by `touch`) should displace `victims`. */
  admit(candidate: PolicyEntry, victims: readonly PolicyEntry[]): boolean;
}

/** The policies the cache offers. */
export type PolicyName = 'lru' | 'gdsf';

/** Options of the frequency-aware policy. */
export interface GdsfOptions {
  /** Requests between two halvings of the frequency history. Default 10,000. */
  historyWindow?: number;
  /**
   * Frequency saturates here, so a once-hot model cannot stay forever. Default 255:
   * with 15 (TinyLFU's 4-bit counters) the top ~100 models of a 10,000-request
   * window all saturate and the policy degrades towards LRU (measured).
   */
  maxFrequency?: number;
  /** Added to every load cost so instant loads still weigh something. Default 1 ms. */
  baseCostMs?: number;
}

/** Least-recently-used. */
export function createLruPolicy(): EvictionPolicy {
  let tick = 0;
  return {
    name: 'lru',
    recordAccess() {},
    touch(entry) {
      entry.priority = ++tick;
    },
    onEvict() {},
    admit: () => true,
  };
}

/** Greedy-Dual-Size-Frequency with a persistent, aging frequency history. */
export function createGdsfPolicy(options: GdsfOptions = {}): EvictionPolicy {
  const window = options.historyWindow ?? 10_000;
  const maxFrequency = options.maxFrequency ?? 255;
  const baseCostMs = options.baseCostMs ?? 1;
  const frequency = new Map<string, number>();
  let samples = 0;
  let inflation = 0;

  function age(): void {
    for (const [id, count] of frequency) {
      const halved = count >> 1;
      if (halved === 0) frequency.delete(id);
      else frequency.set(id, halved);
    }
    samples = 0;
  }

  return {
    name: 'gdsf',
    recordAccess(id) {
      frequency.set(id, Math.min(maxFrequency, (frequency.get(id) ?? 0) + 1));
      if (++samples >= window) age();
    },
    touch(entry) {
      const f = frequency.get(entry.id) ?? 1;
      // Cost per kilobyte keeps the numbers in a readable range; only ratios matter.
      entry.priority = inflation + (f * (entry.loadCostMs + baseCostMs) * 1024) / Math.max(1, entry.sizeBytes);
    },
    onEvict(entry) {
      if (entry.priority > inflation) inflation = entry.priority;
    },
    admit(candidate, victims) {
      for (const victim of victims) if (victim.priority > candidate.priority) return false;
      return true;
    },
  };
}

/** Makes the named policy. */
export function createEvictionPolicy(name: PolicyName, options: GdsfOptions = {}): EvictionPolicy {
  return name === 'lru' ? createLruPolicy() : createGdsfPolicy(options);
}
