/**
 * V8 settings for a process that serves requests, applied before it starts
 * serving. Both trade memory for fewer full collections: each is a pause of
 * 5–25 ms for every request waiting, and at 80% of a replica's capacity the
 * queue a pause leaves takes several times its length to drain.
 *
 * Allocation-site pretenuring is off. V8 watches how many objects of each
 * allocation site survive a young-generation collection and, once most of
 * them do, allocates that site's objects straight into the old generation.
 * A serving replica's request-path sites flip when a stall keeps many
 * requests alive across a collection (a burst of cold loads, a slow moment of
 * the machine); from then on every request leaves its objects there as
 * garbage. Measured in the serving bench's Zipf phases (traced, same code):
 * 14–26 MB/s promoted to the old generation with pretenuring, 0.3–0.5 MB/s
 * without; full collections every ~6 s, then every ~35 s.
 *
 * The old generation grows to `1 + heapGrowthPercent / 100` times what the
 * last full collection kept before the next one (V8 picks ~1.9 on a heap of
 * this size). At the default, 200, that is three times the live heap (~50 MB
 * live in the serving bench, so ~150 MB at most), and the bench ran its Zipf
 * phases, ~50 s, without a full collection after the first.
 */
import { setFlagsFromString } from 'node:v8';
import type { Config } from './config.js';

/** Applies the settings; call it before the process starts serving. */
export function tuneForServing(config: Pick<Config, 'heapGrowthPercent'>): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
  if (config.heapGrowthPercent > 0) setFlagsFromString(`--heap-growing-percent=${config.heapGrowthPercent}`);
}
