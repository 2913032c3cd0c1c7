/** The smallest id that occurs more than once, found on a sorted copy (no Map), or undefined. */
export function firstRepeated(ids: ArrayLike<number>): number | undefined {
  const sorted = Float64Array.from(ids).sort();
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) return sorted[i];
  return undefined;
}
