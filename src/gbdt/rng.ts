/**
 * A small seeded PRNG (SplitMix32 variant) so sampling is reproducible from
 * the `seed` parameter alone, independent of Math.random and of the platform.
 */

/** A deterministic uniform generator on [0, 1). */
export interface Rng {
  next(): number;
}

/** Creates a generator from a 32-bit seed. */
export function createRng(seed: number): Rng {
  let state = (seed ^ 0x9e3779b9) >>> 0;
  return {
    next(): number {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      z = (z ^ (z >>> 16)) >>> 0;
      return z / 4294967296;
    },
  };
}
