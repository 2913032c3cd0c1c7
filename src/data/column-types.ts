/**
 * Column types of tenant datasets, and how a raw value (a CSV cell or a JSON
 * value) becomes a stored value. Every failure names what was wrong so the
 * caller can name the line and the column.
 */

export type ColumnType = 'number' | 'integer' | 'string' | 'boolean' | 'date';
export const COLUMN_TYPES: readonly ColumnType[] = ['number', 'integer', 'string', 'boolean', 'date'];

export interface Column {
  name: string;
  type: ColumnType;
}

/** A value as stored: dates as ISO strings, missing as null. */
export type StoredValue = number | string | boolean | null;

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;
const DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const BOOLEAN = /^(true|false)$/i;

export class ValueError extends Error {}

function describe(raw: unknown): string {
  if (typeof raw === 'string') return `'${raw.length > 40 ? `${raw.slice(0, 40)}…` : raw}'`;
  return typeof raw === 'object' ? (Array.isArray(raw) ? 'an array' : 'an object') : `${typeof raw} ${String(raw)}`;
}

function finite(n: number, raw: unknown): number {
  if (!Number.isFinite(n)) throw new ValueError(`${describe(raw)} is not a finite number (NaN and Infinity are not allowed; leave the cell empty for a missing value)`);
  return n;
}

function parseDate(raw: string): string {
  if (!DATE.test(raw)) throw new ValueError(`${describe(raw)} is not a date (expected ISO-8601 such as 2026-01-31)`);
  const t = Date.parse(raw.length === 10 ? `${raw}T00:00:00Z` : raw.replace(' ', 'T'));
  if (Number.isNaN(t)) throw new ValueError(`${describe(raw)} is not a valid date`);
  return raw.length === 10 ? raw : new Date(t).toISOString();
}

/**
 * Converts a raw value to the column's type. Text values (CSV cells, `textual`)
 * are parsed; JSON values must already have the right JSON type ("1.5" is not a
 * number there), except dates, which JSON can only carry as strings. Null,
 * absent and (in text) '' are missing.
 */
export function coerceValue(raw: unknown, type: ColumnType, textual: boolean): StoredValue {
  if (raw === null || raw === undefined || (textual && raw === '')) return null;
  if (typeof raw === 'string' && (textual || type === 'string' || type === 'date')) {
    const s = raw.trim();
    switch (type) {
      case 'string':
        return raw;
      case 'number':
        if (NON_FINITE.test(s)) return finite(Number.NaN, raw);
        if (!NUMBER.test(s)) throw new ValueError(`${describe(raw)} is not a number`);
        return finite(Number(s), raw);
      case 'integer': {
        if (!INTEGER.test(s)) throw new ValueError(`${describe(raw)} is not an integer`);
        const n = Number(s);
        if (!Number.isSafeInteger(n)) throw new ValueError(`${describe(raw)} is outside the safe integer range`);
        return n;
      }
      case 'boolean':
        if (!BOOLEAN.test(s)) throw new ValueError(`${describe(raw)} is not a boolean (expected true or false)`);
        return s.toLowerCase() === 'true';
      case 'date':
        return parseDate(s);
    }
  }
  switch (type) {
    case 'string':
      throw new ValueError(`expected a string, got ${describe(raw)}`);
    case 'number':
      if (typeof raw !== 'number') throw new ValueError(`expected a number, got ${describe(raw)}`);
      return finite(raw, raw);
    case 'integer':
      if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) throw new ValueError(`expected an integer, got ${describe(raw)}`);
      return raw;
    case 'boolean':
      if (typeof raw !== 'boolean') throw new ValueError(`expected a boolean, got ${describe(raw)}`);
      return raw;
    case 'date':
      throw new ValueError(`expected a date string, got ${describe(raw)}`);
  }
}

/** The narrowest type that fits every sample value of a column (missing values fit all). */
export function inferType(samples: readonly unknown[], textual: boolean): ColumnType {
  let candidates: ColumnType[] = ['boolean', 'integer', 'number', 'date'];
  let sawValue = false;
  for (const raw of samples) {
    if (raw === null || raw === undefined || raw === '') continue;
    sawValue = true;
    candidates = candidates.filter((t) => {
      // A non-finite token in an otherwise numeric column is a bad value, not a string column.
      if (t === 'number' && typeof raw === 'string' && NON_FINITE.test(raw.trim())) return true;
      try {
        coerceValue(raw, t, textual);
        return true;
      } catch {
        return false;
      }
    });
    if (candidates.length === 0) return 'string';
  }
  if (!sawValue) return 'string';
  return candidates[0] ?? 'string';
}

const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_.\- ]{0,127}$/;

export function isValidColumnName(name: string): boolean {
  return COLUMN_NAME.test(name);
}
