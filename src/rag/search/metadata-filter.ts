import { errors } from '../../errors.js';

/** A metadata value a filter can compare. */
export type MetadataScalar = string | number | boolean | null;

/** Operators for one field; several in one object must all hold. */
export interface MetadataCondition {
  $eq?: MetadataScalar;
  $ne?: MetadataScalar;
  $in?: MetadataScalar[];
  $nin?: MetadataScalar[];
  $gt?: number | string;
  $gte?: number | string;
  $lt?: number | string;
  $lte?: number | string;
  $exists?: boolean;
}

/**
 * A query's metadata filter: `{field: value}` is equality, `{field: [a, b]}`
 * membership, `{field: {$gte: 3}}` an operator. All fields must match (AND).
 */
export type MetadataFilter = Record<string, MetadataScalar | MetadataScalar[] | MetadataCondition>;

const OPERATORS = new Set(['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists']);
const FIELD = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** Checks a filter from a request body, so errors name the bad field before any search runs. */
export function parseMetadataFilter(value: unknown): MetadataFilter {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw errors.validation('filter must be an object of metadata fields');
  for (const [field, cond] of Object.entries(value)) {
    if (!FIELD.test(field)) throw errors.validation(`filter field '${field}' is not a valid metadata key`);
    if (Array.isArray(cond)) {
      if (!cond.every(isScalar)) throw errors.validation(`filter field '${field}': list values must be strings, numbers, booleans or null`);
    } else if (cond !== null && typeof cond === 'object') {
      for (const [op, arg] of Object.entries(cond)) {
        if (!OPERATORS.has(op)) throw errors.validation(`filter field '${field}': unknown operator '${op}'`);
        const ok = op === '$in' || op === '$nin' ? Array.isArray(arg) && arg.every(isScalar)
          : op === '$exists' ? typeof arg === 'boolean'
          : op === '$eq' || op === '$ne' ? isScalar(arg)
          : typeof arg === 'number' || typeof arg === 'string';
        if (!ok) throw errors.validation(`filter field '${field}': bad argument for ${op}`);
      }
    } else if (!isScalar(cond)) {
      throw errors.validation(`filter field '${field}' has an unsupported value`);
    }
  }
  return value as MetadataFilter;
}

/** Whether a chunk's (document's) metadata satisfies a filter; dotted fields reach into objects. */
export function matchesMetadataFilter(metadata: Readonly<Record<string, unknown>>, filter: MetadataFilter): boolean {
  for (const [field, cond] of Object.entries(filter)) {
    const actual = lookup(metadata, field);
    if (Array.isArray(cond)) {
      if (!cond.some((c) => equalsOrContains(actual, c))) return false;
    } else if (cond !== null && typeof cond === 'object') {
      if (!matchesCondition(actual, cond)) return false;
    } else if (!equalsOrContains(actual, cond)) {
      return false;
    }
  }
  return true;
}

function matchesCondition(actual: unknown, c: MetadataCondition): boolean {
  if (c.$exists !== undefined && (actual !== undefined) !== c.$exists) return false;
  if (c.$eq !== undefined && !equalsOrContains(actual, c.$eq)) return false;
  if (c.$ne !== undefined && equalsOrContains(actual, c.$ne)) return false;
  if (c.$in !== undefined && !c.$in.some((v) => equalsOrContains(actual, v))) return false;
  if (c.$nin?.some((v) => equalsOrContains(actual, v))) return false;
  const comparable = typeof actual === 'number' || typeof actual === 'string';
  const cmp = (bound: number | string | undefined, ok: (d: number) => boolean) =>
    bound === undefined || (comparable && typeof actual === typeof bound && ok(actual < bound ? -1 : actual > bound ? 1 : 0));
  return cmp(c.$gt, (d) => d > 0) && cmp(c.$gte, (d) => d >= 0) && cmp(c.$lt, (d) => d < 0) && cmp(c.$lte, (d) => d <= 0);
}

/** Equality, or membership when the stored value is a list (tags: ['a', 'b'] matches 'a'). */
function equalsOrContains(actual: unknown, expected: MetadataScalar): boolean {
  return Array.isArray(actual) ? actual.includes(expected) : actual === expected || (actual === undefined && expected === null);
}

function lookup(metadata: Readonly<Record<string, unknown>>, field: string): unknown {
  if (field in metadata) return metadata[field];
  let cur: unknown = metadata;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function isScalar(v: unknown): v is MetadataScalar {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}
