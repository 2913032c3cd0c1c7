/**
 * V8 settings for a process that serves requests, set before it loads anything.
 *
 * Allocation-site pretenuring is off. V8 watches how many objects of each
 * allocation site survive a young-generation collection and, once most of
 * them do, allocates that site's objects straight into the old generation.
 * A serving replica's request-path sites flip when a stall keeps many requests
 * alive across a collection (a burst of cold loads, a slow moment of the
 * machine); from then on every request leaves its objects there as garbage,
 * and full collections, each a pause of 5–25 ms for every request waiting,
 * come every few seconds instead of every few minutes. Measured in the serving
 * bench's Zipf phases (traced, same code): 14–26 MB/s promoted to the old
 * generation with pretenuring, 0.3–0.5 MB/s without.
 */
import { setFlagsFromString } from 'node:v8';

/** Applies the settings; call it first thing in a serving process. */
export function tuneForServing(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
