/**
 * A streamed CSV or NDJSON predict body → the float32 matrix.
 *
 * Most large batches are plain CSV of numbers. Those lines are read straight
 * from the body's bytes into the matrix: no text decoding, no string per line
 * or field, no object per row. On a million-row body that was most of what
 * parsing cost and nearly all the garbage it left for the collector. The
 * first line this reader does not fully understand (a quote, a carriage
 * return, a byte outside ASCII, a field that is not a plain number, a wrong
 * field count), and everything after it, goes through the general readers
 * (`data/row-sources.ts` and `encodeRowSource`), which decide what it means
 * or which error it is, in the words they always use.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { csvHeader, csvSource, ndjsonSource, type StreamedFormat, uploadTooLarge } from '../data/row-sources.js';
import type { FeatureSpec } from './model-spec.js';
import { appendRowSource, encodeRowSource, finishedMatrix, MatrixBuilder, type RowMatrix, YIELD_EVERY_ROWS } from './row-matrix.js';

type Body = AsyncIterable<Buffer | Uint8Array | string>;

/** Encodes a streamed body of `format`, as `encodeRowSource` does with the format's row source. */
export function encodeStreamedRows(specs: readonly FeatureSpec[], format: StreamedFormat, body: Body, maxBytes: number, prefix: readonly number[]): Promise<RowMatrix> {
  if (format === 'ndjson') return encodeRowSource(specs, ndjsonSource(body, maxBytes), prefix);
  if (!specs.every(readsPlainNumbers)) return encodeRowSource(specs, csvSource(body, maxBytes), prefix);
  return encodeNumericCsv(specs, body, maxBytes, prefix);
}

/** Features whose CSV text is a number taken as it is (not a date, not a category name). */
function readsPlainNumbers(spec: FeatureSpec): boolean {
  return spec.type !== 'date' && (spec.kind === 'numeric' || spec.categories === undefined);
}

const NEWLINE = 0x0a;
const COMMA = 0x2c;
/** A line that is not plain: the general readers take it from here. */
const NOT_PLAIN = Number.POSITIVE_INFINITY;
/** Powers of ten that are exact doubles. */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);

async function encodeNumericCsv(specs: readonly FeatureSpec[], body: Body, maxBytes: number, prefix: readonly number[]): Promise<RowMatrix> {
  const out = new MatrixBuilder(prefix, specs.length, 4096);
  const chunks = body[Symbol.asyncIterator]();
  const row = new Float64Array(specs.length);
  let header: string[] | undefined;
  /** Per column of the body, the feature it fills (-1: ignored). */
  let slots: Int32Array = new Int32Array(0);
  let lines = 0;
  let bytes = 0;
  let sinceYield = 0;
  let partial: Uint8Array | undefined;

  /** Takes one line (without its `\n`) and counts it; false, leaving it uncounted, if it is not plain. */
  const take = (buf: Uint8Array, start: number, end: number): boolean => {
    if (start < end && !takeText(buf, start, end)) return false; // empty lines are skipped
    lines++;
    return true;
  };
  const takeText = (buf: Uint8Array, start: number, end: number): boolean => {
    if (header === undefined) {
      for (let i = start; i < end; i++) if (!isPlainHeaderByte(buf[i]!)) return false;
      header = csvHeader(asciiText(buf, start, end).split(','));
      slots = new Int32Array(header.length).fill(-1);
      header.forEach((name, column) => {
        slots[column] = specs.findIndex((spec) => spec.name === name);
      });
      return true;
    }
    if (!readRow(buf, start, end, slots, row)) return false;
    const base = out.next();
    for (let f = 0; f < row.length; f++) out.set(base + f, row[f]!);
    sinceYield++;
    return true;
  };

  /** The rest of the body, from `rest` on, through the general readers. */
  const handOver = async (rest: Uint8Array): Promise<RowMatrix> => {
    async function* restOfBody(): Body {
      if (rest.length > 0) yield rest;
      // Read by hand and never `return()`ed: ending a request stream early would reset the connection before an error is
      // sent. A body already read to its end just answers done again.
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    }
    const from = { header, linesBefore: lines, bytesBefore: bytes - rest.length };
    await appendRowSource(out, specs, csvSource(restOfBody(), maxBytes, from));
    return finishedMatrix(out);
  };

  for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : next.value;
    bytes += chunk.length;
    if (bytes > maxBytes) throw uploadTooLarge(maxBytes);
    let start = 0;
    let end = chunk.indexOf(NEWLINE);
    if (partial !== undefined && end !== -1) {
      // The line this chunk ends: joined once, only its own bytes.
      const line = concat(partial, chunk.subarray(0, end));
      partial = undefined;
      if (!take(line, 0, line.length)) return handOver(concat(line, chunk.subarray(end)));
      start = end + 1;
      end = chunk.indexOf(NEWLINE, start);
    }
    for (; end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      if (!take(chunk, start, end)) return handOver(chunk.subarray(start));
      start = end + 1;
    }
    // Copied: a Buffer's `slice` is a view, and the chunk's memory is not ours to keep.
    if (start < chunk.length) partial = partial === undefined ? new Uint8Array(chunk.subarray(start)) : concat(partial, chunk);
    if (sinceYield >= YIELD_EVERY_ROWS) {
      sinceYield = 0;
      await yieldToLoop();
    }
  }
  if (partial !== undefined && !take(partial, 0, partial.length)) return handOver(partial);
  // No header at all: the general reader has the words for that.
  if (header === undefined) return handOver(new Uint8Array(0));
  return finishedMatrix(out);
}

/** Printable ASCII but the quote: a header line this reader can split on commas as it is. */
function isPlainHeaderByte(b: number): boolean {
  return b >= 0x20 && b < 0x7f && b !== 0x22;
}

/** One data line into `row` (by feature); false if it is not plain or has the wrong number of fields. */
function readRow(buf: Uint8Array, start: number, end: number, slots: Int32Array, row: Float64Array): boolean {
  row.fill(Number.NaN); // a feature without a column is missing
  let column = 0;
  let fieldStart = start;
  for (let i = start; i <= end; i++) {
    const b = i < end ? buf[i]! : COMMA;
    if (b === COMMA) {
      if (column >= slots.length) return false;
      const slot = slots[column]!;
      if (slot >= 0) {
        const value = plainNumber(buf, fieldStart, i);
        if (value === NOT_PLAIN) return false;
        row[slot] = value;
      }
      column++;
      fieldStart = i + 1;
    } else if (b >= 0x80 || b === 0x22 || b === 0x0d) {
      return false;
    }
  }
  return column === slots.length;
}

/**
 * The number a field's ASCII bytes spell: `[+-]digits[.digits][e[+-]digits]`; NaN when empty (missing);
 * `NOT_PLAIN` for anything else, and for what is not finite. Exactly `Number(text)`: with at most 15 significant
 * digits and a power of ten up to 22 it is one correctly rounded multiplication or division of two exact doubles
 * (Clinger's fast path); other numbers go through `Number` itself.
 */
function plainNumber(buf: Uint8Array, start: number, end: number): number {
  if (start === end) return Number.NaN;
  let i = start;
  const negative = buf[i] === 0x2d;
  if (negative || buf[i] === 0x2b) i++;
  let mantissa = 0;
  let significant = 0;
  let digits = 0;
  let fractionDigits = 0;
  let inFraction = false;
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x30 && b <= 0x39) {
      digits++;
      if (inFraction) fractionDigits++;
      if (significant > 0 || b !== 0x30) significant++;
      mantissa = mantissa * 10 + (b - 0x30);
    } else if (b === 0x2e && !inFraction) {
      inFraction = true;
    } else {
      break;
    }
  }
  if (digits === 0) return NOT_PLAIN;
  let exponent = 0;
  if (i < end) {
    if (buf[i] !== 0x65 && buf[i] !== 0x45) return NOT_PLAIN;
    i++;
    const negativeExponent = buf[i] === 0x2d;
    if (negativeExponent || buf[i] === 0x2b) i++;
    if (i === end) return NOT_PLAIN;
    for (; i < end; i++) {
      const b = buf[i]!;
      if (b < 0x30 || b > 0x39) return NOT_PLAIN;
      if (exponent < 100_000) exponent = exponent * 10 + (b - 0x30);
    }
    if (negativeExponent) exponent = -exponent;
  }
  const power = exponent - fractionDigits;
  let value: number;
  if (significant <= 15 && power >= -22 && power <= 22) {
    value = power >= 0 ? mantissa * EXACT_POWERS_OF_TEN[power]! : mantissa / EXACT_POWERS_OF_TEN[-power]!;
    if (negative) value = -value;
  } else {
    value = Number(asciiText(buf, start, end));
  }
  return Number.isFinite(value) ? value : NOT_PLAIN;
}

/** Bytes already checked to be ASCII, as text. */
function asciiText(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
