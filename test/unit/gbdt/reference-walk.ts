/** The gbdt tests' reference prediction, kept apart from every predictor under test. */
import type { GbdtModel } from '../../../src/gbdt/index.js';

/** Sums leaves by walking the model's own node arrays: an independent reference. */
export function referenceMargin(model: GbdtModel, row: ArrayLike<number>, base: number): number {
  const f = model.forest;
  let sum = base;
  for (let t = 0; t < f.numTrees; t++) {
    const s = f.treeStart[t]!;
    let n = 0;
    while (f.left[s + n] !== -1) {
      const x = Math.fround(row[f.feature[s + n]!]!);
      let left: boolean;
      if (Number.isNaN(x)) left = f.defaultLeft[s + n] === 1;
      else if (f.splitType[s + n] === 1) {
        const k = f.catNodes.indexOf(s + n);
        const set = Array.from(f.categories.subarray(f.catStart[k]!, f.catStart[k]! + f.catSize[k]!));
        left = !(x >= 0 && set.includes(Math.trunc(x)));
      } else left = x < f.value[s + n]!;
      n = left ? f.left[s + n]! : f.right[s + n]!;
    }
    sum = Math.fround(sum + f.value[s + n]!);
  }
  return sum;
}
