/**
 * Feature importance from the split statistics stored in the trees, with
 * XGBoost's definitions (`get_score(importance_type=...)`).
 */
import type { GbdtModel } from './types.js';

/** XGBoost's importance types; 'gain' is the mean gain per split. */
export type ImportanceType = 'gain' | 'total_gain' | 'weight' | 'cover' | 'total_cover';

/** One feature's importance. */
export interface FeatureImportance {
  index: number;
  /** The feature's name, or `f<index>` for unnamed features (XGBoost's convention). */
  name: string;
  value: number;
}

/** Importance of every feature used in a split, highest first (ties by index). */
export function featureImportance(model: GbdtModel, type: ImportanceType = 'gain'): FeatureImportance[] {
  const f = model.forest;
  const splits = new Float64Array(model.numFeatures);
  const gain = new Float64Array(model.numFeatures);
  const cover = new Float64Array(model.numFeatures);
  for (let i = 0; i < f.left.length; i++) {
    if (f.left[i] === -1) continue;
    const j = f.feature[i]!;
    splits[j]! += 1;
    gain[j]! += f.gain[i]!;
    cover[j]! += f.cover[i]!;
  }
  const out: FeatureImportance[] = [];
  for (let j = 0; j < model.numFeatures; j++) {
    if (splits[j] === 0) continue;
    const n = splits[j]!;
    const value =
      type === 'weight' ? n : type === 'total_gain' ? gain[j]! : type === 'gain' ? gain[j]! / n : type === 'total_cover' ? cover[j]! : cover[j]! / n;
    out.push({ index: j, name: model.featureNames[j] ?? `f${j}`, value });
  }
  return out.sort((a, b) => b.value - a.value || a.index - b.index);
}
