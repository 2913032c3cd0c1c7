import { errors } from '../errors.js';
import { type Column, coerceValue, inferType, isValidColumnName, type StoredValue, ValueError } from './column-types.js';
import type { RawRow } from './row-sources.js';

/** How many leading rows decide the column types of a dataset that declared none. */
export const INFERENCE_SAMPLE_ROWS = 1000;

/** Infers columns (names in first-seen order, narrowest type) from the first rows of the first upload. */
export function inferColumns(sample: readonly RawRow[], unit: 'line' | 'row', textual: boolean): Column[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const row of sample) {
    for (const name of Object.keys(row.record)) {
      if (seen.has(name)) continue;
      if (!isValidColumnName(name))
        throw errors.validation(`${unit} ${row.line}: '${name}' is not a valid column name (letters, digits, _ . - and spaces, starting with a letter or _)`, {
          line: row.line,
          column: name,
        });
      seen.add(name);
      names.push(name);
    }
  }
  return names.map((name) => ({ name, type: inferType(sample.map((r) => r.record[name]), textual) }));
}

/** Validates one row against the columns, returning its values in column order. */
export function validateRow(
  row: RawRow,
  columns: readonly Column[],
  index: Map<string, number>,
  unit: 'line' | 'row',
  textual: boolean,
): StoredValue[] {
  for (const key of Object.keys(row.record)) {
    if (!index.has(key))
      throw errors.validation(`${unit} ${row.line}: unknown column '${key}' (the dataset's columns are: ${columns.map((c) => c.name).join(', ')})`, {
        line: row.line,
        column: key,
      });
  }
  const out: StoredValue[] = new Array(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i]!;
    try {
      out[i] = coerceValue(row.record[col.name], col.type, textual);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      throw errors.validation(`${unit} ${row.line}, column '${col.name}' (${col.type}): ${err.message}`, {
        line: row.line,
        column: col.name,
      });
    }
  }
  return out;
}
