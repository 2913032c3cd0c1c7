/** Mulberry32: a small seeded uniform generator on [0, 1), shared by the synthetic data of tests and benchmarks. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample (Box-Muller). */
export function gaussian(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

/**
 * A Poisson sample: Knuth's exact method up to `normalAbove`, a rounded normal
 * approximation above it (Knuth's loop grows with the mean).
 */
export function poisson(rnd: () => number, mean: number, normalAbove = Number.POSITIVE_INFINITY): number {
  if (mean > normalAbove) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(rnd)));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rnd();
  } while (p > l);
  return k - 1;
}
