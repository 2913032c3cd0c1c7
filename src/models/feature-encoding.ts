/**
 * Dataset values and request values → the float32 matrix the trees read.
 * Numbers, integers and booleans (1/0) are numeric; dates are numeric days
 * since 1970-01-01; strings are categorical, coded by their position in the
 * sorted categories seen in training (an unseen category is a missing value).
 * Null or absent is missing (NaN) everywhere.
 */
import type { Column, StoredValue } from '../data/column-types.js';
import { errors } from '../errors.js';
import type { FeatureSpec } from './model-spec.js';

const DAY_MS = 86_400_000;

/** The feature specs for the named columns (categories still to be learned). */
export function planFeatures(columns: readonly Column[], names: readonly string[]): FeatureSpec[] {
  return names.map((name) => {
    const col = columns.find((c) => c.name === name);
    if (!col) throw errors.validation(`features: unknown column '${name}'`);
    return { name, type: col.type, kind: col.type === 'string' ? 'categorical' : 'numeric' };
  });
}

/** Sets `categories` on categorical string features: the sorted distinct values of their columns. */
export function learnCategories(specs: FeatureSpec[], columnValues: (name: string) => Iterable<StoredValue>): void {
  for (const spec of specs) {
    if (spec.kind !== 'categorical' || spec.type === 'derived' || spec.type === 'integer') continue;
    const seen = new Set<string>();
    for (const v of columnValues(spec.name)) if (v !== null) seen.add(String(v));
    spec.categories = [...seen].sort();
  }
}

/** A fast value → number encoder for one feature. */
export type ValueEncoder = (value: unknown, where: string) => number;

/** Builds the encoder of one feature spec. */
export function encoderFor(spec: FeatureSpec): ValueEncoder {
  if (spec.kind === 'categorical') {
    if (spec.categories === undefined) {
      // Imported XGBoost models take category codes directly (as XGBoost does: any number, compared as a code).
      return (v, where) => {
        if (v === null || v === undefined) return Number.NaN;
        if (typeof v !== 'number' || !Number.isFinite(v)) throw errors.validation(`${where}: expected a category code (a number), got ${JSON.stringify(v)}`);
        return v;
      };
    }
    const codes = new Map(spec.categories.map((c, i) => [c, i]));
    return (v) => {
      if (v === null || v === undefined) return Number.NaN;
      if (typeof v === 'object') return Number.NaN;
      return codes.get(String(v)) ?? Number.NaN;
    };
  }
  if (spec.type === 'date') {
    return (v, where) => {
      if (v === null || v === undefined) return Number.NaN;
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      const t = typeof v === 'string' ? parseDateMs(v) : Number.NaN;
      if (Number.isNaN(t)) throw errors.validation(`${where}: expected an ISO-8601 date, got ${JSON.stringify(v)}`);
      return t / DAY_MS;
    };
  }
  return (v, where) => {
    if (v === null || v === undefined) return Number.NaN;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw errors.validation(`${where}: not a finite number`);
      return v;
    }
    if (typeof v === 'boolean') return v ? 1 : 0;
    throw errors.validation(`${where}: expected a number, got ${JSON.stringify(v)?.slice(0, 60)}`);
  };
}

/** Milliseconds since the epoch of an ISO date or date-time (UTC when no zone is given), NaN if it is not one. */
export function parseDateMs(text: string): number {
  return Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
}

/** Encodes row objects keyed by feature name (extra fields are ignored). */
export function encodeRowObjects(specs: readonly FeatureSpec[], rows: readonly Record<string, unknown>[], prefix: number[] = []): Float32Array {
  const encoders = specs.map(encoderFor);
  const width = prefix.length + specs.length;
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw errors.validation(`rows[${r}]: expected an object of feature values`);
    const base = r * width;
    for (let i = 0; i < prefix.length; i++) out[base + i] = prefix[i]!;
    for (let f = 0; f < specs.length; f++) out[base + prefix.length + f] = encoders[f]!(row[specs[f]!.name], `rows[${r}].${specs[f]!.name}`);
  });
  return out;
}

/** Encodes positional instances, in the model's feature order. */
export function encodeInstances(specs: readonly FeatureSpec[], instances: readonly unknown[][], prefix: number[] = []): Float32Array {
  const encoders = specs.map(encoderFor);
  const width = prefix.length + specs.length;
  const out = new Float32Array(instances.length * width);
  instances.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== specs.length) {
      throw errors.validation(`instances[${r}]: expected an array of ${specs.length} values (${specs.map((s) => s.name).join(', ')})`);
    }
    const base = r * width;
    for (let i = 0; i < prefix.length; i++) out[base + i] = prefix[i]!;
    for (let f = 0; f < specs.length; f++) out[base + prefix.length + f] = encoders[f]!(row[f], `instances[${r}][${f}]`);
  });
  return out;
}

/** Encodes stored dataset rows (values in column order) for the given features. */
export function encodeStoredRows(
  specs: readonly FeatureSpec[],
  columns: readonly Column[],
  rows: readonly StoredValue[][],
  prefix: (rowIndex: number) => number[] = () => [],
  prefixWidth = 0,
): Float32Array {
  const encoders = specs.map(encoderFor);
  const index = specs.map((s) => columns.findIndex((c) => c.name === s.name));
  index.forEach((i, f) => {
    if (i < 0) throw errors.validation(`the dataset has no column '${specs[f]!.name}'`);
  });
  const width = prefixWidth + specs.length;
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    const base = r * width;
    if (prefixWidth > 0) {
      const p = prefix(r);
      for (let i = 0; i < prefixWidth; i++) out[base + i] = p[i]!;
    }
    for (let f = 0; f < specs.length; f++) out[base + prefixWidth + f] = encoders[f]!(row[index[f]!] ?? null, `row ${r}`);
  });
  return out;
}
