/**
 * Dataset rows → training and holdout matrices for tabular models. The split
 * is a fixed function of the row's position (about 20% held out), so the same
 * rows always give the same split: training stays deterministic.
 */
import { createHash } from 'node:crypto';
import type { Column, StoredValue } from '../data/column-types.js';
import { errors } from '../errors.js';
import { encodeStoredRows } from './feature-encoding.js';
import type { DataFingerprint, FeatureSpec } from './model-spec.js';

/** A row-major feature matrix with labels. */
export interface MatrixSet {
  features: Float32Array;
  labels: Float32Array;
  numFeatures: number;
  rows: number;
}

/** Whether the labelled row at `position` is held out (a multiplicative hash, ~20%). */
export function isHoldoutRow(position: number): boolean {
  return ((Math.imul(position + 1, 0x9e3779b1) >>> 0) % 100) < 20;
}

/** A stored target value as a number (booleans as 1/0), null when missing. */
export function labelOf(value: StoredValue | undefined): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return null;
}

/** Row count and sha256 of the rows exactly as read. */
export function fingerprintRows(rows: readonly StoredValue[][]): DataFingerprint {
  const hash = createHash('sha256');
  for (const row of rows) hash.update(`${JSON.stringify(row)}\n`);
  return { rows: rows.length, sha256: hash.digest('hex') };
}

/** The labelled rows split into training and holdout (rows missing the target are dropped). */
export function splitRows(columns: readonly Column[], rows: readonly StoredValue[][], target: string) {
  const t = columns.findIndex((c) => c.name === target);
  if (t < 0) throw errors.validation(`the dataset has no column '${target}'`);
  const train: StoredValue[][] = [];
  const holdout: StoredValue[][] = [];
  const trainY: number[] = [];
  const holdoutY: number[] = [];
  let position = 0;
  for (const row of rows) {
    const y = labelOf(row[t]);
    if (y === null) continue;
    if (isHoldoutRow(position++)) {
      holdout.push(row);
      holdoutY.push(y);
    } else {
      train.push(row);
      trainY.push(y);
    }
  }
  return { train, holdout, trainY, holdoutY };
}

/** Splits the labelled rows into training and holdout matrices; `prefix` values are prepended to every row (the global model's tenant code). */
export function buildTabularSets(
  columns: readonly Column[],
  rows: readonly StoredValue[][],
  specs: readonly FeatureSpec[],
  target: string,
  prefix: number[] = [],
): { train: MatrixSet; holdout: MatrixSet } {
  const split = splitRows(columns, rows, target);
  const width = prefix.length + specs.length;
  const make = (r: StoredValue[][], y: number[]): MatrixSet => ({
    features: encodeStoredRows(specs, columns, r, () => prefix, prefix.length),
    labels: Float32Array.from(y),
    numFeatures: width,
    rows: r.length,
  });
  return { train: make(split.train, split.trainY), holdout: make(split.holdout, split.holdoutY) };
}

/** Concatenates matrices of the same width. */
export function concatSets(sets: readonly MatrixSet[], numFeatures: number): MatrixSet {
  const rows = sets.reduce((n, s) => n + s.rows, 0);
  const features = new Float32Array(rows * numFeatures);
  const labels = new Float32Array(rows);
  let at = 0;
  for (const s of sets) {
    features.set(s.features, at * numFeatures);
    labels.set(s.labels, at);
    at += s.rows;
  }
  return { features, labels, numFeatures, rows };
}

/** Mean of labels (0 for none). */
export function meanOf(labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += labels[i]!;
  return labels.length === 0 ? 0 : s / labels.length;
}
