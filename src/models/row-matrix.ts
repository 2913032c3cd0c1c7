/**
 * Request rows → the float32 matrix the trees read, built incrementally so a
 * large batch never blocks the event loop: rows are encoded as they arrive
 * (a JSON array in chunks, or a CSV / NDJSON body as it streams) and the
 * encoder yields to the event loop every `YIELD_EVERY_ROWS` rows.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { RowSource } from '../data/row-sources.js';
import { AppError, errors } from '../errors.js';
import { encoderFor, type ValueEncoder } from './feature-encoding.js';
import type { FeatureSpec } from './model-spec.js';

/** Rows encoded between two yields to the event loop. */
export const YIELD_EVERY_ROWS = 1000;
/** Incoming body chunks are cut to this size so one chunk's parsing stays short. */
const MAX_CHUNK_BYTES = 16 * 1024;

/** The encoded rows of one request. */
export interface RowMatrix {
  /** Row-major, `width` values per row (the target's prefix, then its features). */
  data: Float32Array;
  rows: number;
  width: number;
}

/** Appends encoded rows to a growing matrix. */
export class MatrixBuilder {
  private data: Float32Array;
  rows = 0;
  readonly width: number;

  constructor(
    private readonly prefix: readonly number[],
    featureCount: number,
    expectedRows = 1024,
  ) {
    this.width = prefix.length + featureCount;
    this.data = new Float32Array(Math.max(1, expectedRows) * this.width);
  }

  /** The slot of a new row, prefix already written. */
  next(): number {
    if ((this.rows + 1) * this.width > this.data.length) {
      const grown = new Float32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    const base = this.rows * this.width;
    for (let i = 0; i < this.prefix.length; i++) this.data[base + i] = this.prefix[i]!;
    this.rows += 1;
    return base + this.prefix.length;
  }

  set(index: number, value: number): void {
    this.data[index] = value;
  }

  done(): RowMatrix {
    const used = this.rows * this.width;
    // A full matrix (a JSON request is sized exactly) is returned as it is: a view of a small typed array makes V8 move
    // its elements out of the heap into an ArrayBuffer of their own, a malloc per single-row prediction.
    return { data: used === this.data.length ? this.data : this.data.subarray(0, used), rows: this.rows, width: this.width };
  }
}

/** The encoders of a feature list, built once per list (a serving target keeps its list). */
const encoderCache = new WeakMap<readonly FeatureSpec[], ValueEncoder[]>();
function encodersOf(specs: readonly FeatureSpec[]): ValueEncoder[] {
  let encoders = encoderCache.get(specs);
  if (encoders === undefined) {
    encoders = specs.map(encoderFor);
    encoderCache.set(specs, encoders);
  }
  return encoders;
}

/** Rows of a JSON request, one at a time, into a matrix. */
type RowEncoder<R> = (out: MatrixBuilder, encoders: readonly ValueEncoder[], specs: readonly FeatureSpec[], row: R, r: number) => void;

/**
 * Encodes one value. Its location is formatted only when the value is refused: the encoder runs again with it, and
 * throws. (Formatting it for every value was most of the garbage a million-row upload made.)
 */
function encodeAt<A, B>(encoder: ValueEncoder, value: unknown, where: (a: A, b: B) => string, a: A, b: B): number {
  try {
    return encoder(value, '');
  } catch {
    return encoder(value, where(a, b));
  }
}
const objectField = (r: number, name: string) => `rows[${r}].${name}`;
const instanceField = (r: number, f: number) => `instances[${r}][${f}]`;
const lineField = (line: number, name: string) => `line ${line}, ${name}`;

/** One row of values by feature name (a JSON object, or a CSV/NDJSON record), located by `where(at, name)` if refused. */
function encodeNamedRow<A>(out: MatrixBuilder, encoders: readonly ValueEncoder[], specs: readonly FeatureSpec[], record: Record<string, unknown>, where: (at: A, name: string) => string, at: A): void {
  const base = out.next();
  for (let f = 0; f < specs.length; f++) {
    const name = specs[f]!.name;
    out.set(base + f, encodeAt(encoders[f]!, record[name], where, at, name));
  }
}

const encodeObjectRow: RowEncoder<Record<string, unknown>> = (out, encoders, specs, row, r) => {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) throw errors.validation(`rows[${r}]: expected an object of feature values`);
  encodeNamedRow(out, encoders, specs, row, objectField, r);
};

const encodeInstanceRow: RowEncoder<unknown[]> = (out, encoders, specs, row, r) => {
  if (!Array.isArray(row) || row.length !== specs.length) {
    throw errors.validation(`instances[${r}]: expected an array of ${specs.length} values (${specs.map((s) => s.name).join(', ')})`);
  }
  const base = out.next();
  for (let f = 0; f < specs.length; f++) out.set(base + f, encodeAt(encoders[f]!, row[f], instanceField, r, f));
};

function encodeAll<R>(encodeRow: RowEncoder<R>, specs: readonly FeatureSpec[], rows: readonly R[], prefix: readonly number[]): RowMatrix {
  if (rows.length > YIELD_EVERY_ROWS) throw new AppError('internal', `at most ${YIELD_EVERY_ROWS} rows are encoded without yielding; use the async form`);
  const encoders = encodersOf(specs);
  const out = new MatrixBuilder(prefix, specs.length, rows.length);
  for (let r = 0; r < rows.length; r++) encodeRow(out, encoders, specs, rows[r]!, r);
  return out.done();
}

async function encodeAllAsync<R>(encodeRow: RowEncoder<R>, specs: readonly FeatureSpec[], rows: readonly R[], prefix: readonly number[]): Promise<RowMatrix> {
  const encoders = encodersOf(specs);
  const out = new MatrixBuilder(prefix, specs.length, rows.length);
  for (let r = 0; r < rows.length; r++) {
    if (r > 0 && r % YIELD_EVERY_ROWS === 0) await yieldToLoop();
    encodeRow(out, encoders, specs, rows[r]!, r);
  }
  return out.done();
}

/** Encodes `{rows: [...]}` objects keyed by feature name (extra fields are ignored), yielding between chunks. */
export function encodeRowObjectsAsync(specs: readonly FeatureSpec[], rows: readonly Record<string, unknown>[], prefix: readonly number[]): Promise<RowMatrix> {
  return encodeAllAsync(encodeObjectRow, specs, rows, prefix);
}

/** Encodes `{instances: [[...]]}` in the model's feature order, yielding between chunks. */
export function encodeInstancesAsync(specs: readonly FeatureSpec[], instances: readonly unknown[][], prefix: readonly number[]): Promise<RowMatrix> {
  return encodeAllAsync(encodeInstanceRow, specs, instances, prefix);
}

/** `encodeRowObjectsAsync` at once, for at most `YIELD_EVERY_ROWS` rows. */
export function encodeRowObjects(specs: readonly FeatureSpec[], rows: readonly Record<string, unknown>[], prefix: readonly number[]): RowMatrix {
  return encodeAll(encodeObjectRow, specs, rows, prefix);
}

/** `encodeInstancesAsync` at once, for at most `YIELD_EVERY_ROWS` rows. */
export function encodeInstances(specs: readonly FeatureSpec[], instances: readonly unknown[][], prefix: readonly number[]): RowMatrix {
  return encodeAll(encodeInstanceRow, specs, instances, prefix);
}

/**
 * Encodes a streamed CSV or NDJSON body row by row. Fields are matched to
 * features by name (extra columns are ignored, a missing one is a missing
 * value). CSV values are text: an empty field is missing, `true`/`false` are
 * 1/0 for numeric features, numbers are parsed. Errors name the body line.
 */
export async function encodeRowSource(specs: readonly FeatureSpec[], source: RowSource, prefix: readonly number[]): Promise<RowMatrix> {
  const out = new MatrixBuilder(prefix, specs.length, 4096);
  await appendRowSource(out, specs, source);
  return finishedMatrix(out);
}

/** The rows built, refusing a body without any. */
export function finishedMatrix(out: MatrixBuilder): RowMatrix {
  if (out.rows === 0) throw errors.validation('body: no rows to predict');
  return out.done();
}

/** `encodeRowSource`'s work, appending to rows already built. */
export async function appendRowSource(out: MatrixBuilder, specs: readonly FeatureSpec[], source: RowSource): Promise<void> {
  const encoders = specs.map((spec) => (source.textual ? textEncoderFor(spec) : encoderFor(spec)));
  let sinceYield = 0;
  for await (const rows of source.rows) {
    for (const { line, record } of rows) encodeNamedRow(out, encoders, specs, record, lineField, line);
    sinceYield += rows.length;
    if (sinceYield >= YIELD_EVERY_ROWS) {
      sinceYield = 0;
      await yieldToLoop();
    }
  }
}

/** Cuts a body stream into small chunks with a yield between them, so parsing one network read never holds the loop long. */
export async function* smallChunks(body: AsyncIterable<Buffer | Uint8Array | string>): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    for (let at = 0; at < bytes.length; at += MAX_CHUNK_BYTES) {
      yield bytes.subarray(at, Math.min(bytes.length, at + MAX_CHUNK_BYTES));
      if (at + MAX_CHUNK_BYTES < bytes.length) await yieldToLoop();
    }
  }
}

/** The encoder of one feature for CSV text values. */
function textEncoderFor(spec: FeatureSpec): ValueEncoder {
  const typed = encoderFor(spec);
  const numericText = spec.kind === 'numeric' || (spec.kind === 'categorical' && spec.categories === undefined);
  return (value, where) => {
    if (value === undefined || value === null || value === '') return Number.NaN;
    if (typeof value !== 'string' || spec.type === 'date' || !numericText) return typed(value, where);
    const text = value.trim();
    if (text === 'true' || text === 'false') return typed(text === 'true', where);
    const n = Number(text);
    if (text === '' || Number.isNaN(n)) throw errors.validation(`${where}: expected a number, got ${JSON.stringify(value.slice(0, 60))}`);
    return typed(n, where);
  };
}
