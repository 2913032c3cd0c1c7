/**
 * Upload bodies → rows, streamed. Each source yields batches of `{line, record}`
 * without holding the whole body in memory, checks UTF-8 and the size limit as
 * bytes arrive, and names the line of anything malformed.
 */
import { errors } from '../errors.js';
import { csvRecords } from './csv-records.js';
import { LineCutter } from './line-cutter.js';

export interface RawRow {
  /** 1-based position for error messages: the line of a CSV (header = 1) or NDJSON body, the index in a JSON array. */
  line: number;
  record: Record<string, unknown>;
}

export interface RowSource {
  /** How rows are numbered in messages: `line` or `row`. */
  unit: 'line' | 'row';
  /** Values arrive as text to be parsed (CSV), not as typed JSON values. */
  textual: boolean;
  /**
   * The rows in order, in batches (about one network read's worth each): a step of an async iteration costs a
   * promise and a result object, which per row were most of what parsing a large body allocated.
   */
  rows: AsyncIterable<RawRow[]>;
  /** Bytes read so far (the stored size of the upload). */
  bytesRead(): number;
}

/** The 413 of a body past `maxBytes`, in the words every reader uses. */
export function uploadTooLarge(maxBytes: number) {
  return errors.payloadTooLarge(`upload exceeds the limit of ${maxBytes} bytes; split it into several appends`);
}

/** Decodes a byte stream as strict UTF-8, enforcing `maxBytes`; a byte-order mark is dropped only at the body's start. */
async function* utf8Chunks(body: AsyncIterable<Buffer | Uint8Array | string>, maxBytes: number, counter: { bytes: number }) {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: counter.bytes > 0 });
  for await (const chunk of body) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    counter.bytes += bytes.length;
    if (counter.bytes > maxBytes) throw uploadTooLarge(maxBytes);
    try {
      yield decoder.decode(bytes, { stream: true });
    } catch {
      throw errors.validation(`body is not valid UTF-8 (near byte ${counter.bytes - bytes.length})`);
    }
  }
  try {
    const rest = decoder.decode();
    if (rest) yield rest;
  } catch {
    throw errors.validation('body is not valid UTF-8 (it ends inside a multi-byte character)');
  }
}

/** Where a CSV body's rest starts when its beginning was read elsewhere (see `models/streamed-rows.ts`). */
export interface CsvContinuation {
  /** The header already read (checked by `csvHeader`); undefined if the rest starts before it. */
  header: string[] | undefined;
  /** Lines of the body before the rest. */
  linesBefore: number;
  /** Bytes of the body before the rest (they count against the size limit). */
  bytesBefore: number;
}

/** CSV with a header line. Quoted fields may span lines; line numbers follow the file. */
export function csvSource(body: AsyncIterable<Buffer | Uint8Array | string>, maxBytes: number, from?: CsvContinuation): RowSource {
  const counter = { bytes: from?.bytesBefore ?? 0 };
  async function* rows(): AsyncIterable<RawRow[]> {
    let header = from?.header;
    for await (const records of csvRecords(utf8Chunks(body, maxBytes, counter)[Symbol.asyncIterator](), from?.linesBefore)) {
      const batch: RawRow[] = [];
      for (const { record, line } of records) {
        if (!header) {
          header = csvHeader(record);
          continue;
        }
        if (record.length !== header.length) {
          throw errors.validation(`line ${line}: malformed CSV: ${record.length} field${record.length === 1 ? '' : 's'} where the header has ${header.length}`, {
            line,
            fields: record.length,
            expected: header.length,
          });
        }
        const out: Record<string, unknown> = {};
        for (let i = 0; i < header.length; i++) out[header[i]!] = record[i];
        batch.push({ line, record: out });
      }
      if (batch.length > 0) yield batch;
    }
    if (!header) throw errors.validation('empty body: expected a CSV header line and at least one row');
  }
  return { unit: 'line', textual: true, rows: rows(), bytesRead: () => counter.bytes };
}

/** A CSV header's column names, trimmed; an empty or repeated name is a validation error. */
export function csvHeader(record: string[]): string[] {
  const header = record.map((h) => h.trim());
  const seen = new Set<string>();
  for (const h of header) {
    if (h === '') throw errors.validation('line 1: the CSV header has an empty column name', { line: 1 });
    if (seen.has(h)) throw errors.validation(`line 1: column '${h}' appears twice in the CSV header`, { line: 1, column: h });
    seen.add(h);
  }
  return header;
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw errors.validation(`${where}: expected a JSON object with one field per column`);
  return value as Record<string, unknown>;
}

/** Newline-delimited JSON: one object per line; blank lines are skipped. */
export function ndjsonSource(body: AsyncIterable<Buffer | Uint8Array | string>, maxBytes: number): RowSource {
  const counter = { bytes: 0 };
  async function* rows(): AsyncIterable<RawRow[]> {
    const parseLine = (text: string, line: number): RawRow | null => {
      if (text.trim() === '') return null;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw errors.validation(`line ${line}: invalid JSON (${(err as Error).message})`, { line });
      }
      return { line, record: asRecord(value, `line ${line}`) };
    };
    const lines = new LineCutter();
    for await (const piece of utf8Chunks(body, maxBytes, counter)) {
      const batch: RawRow[] = [];
      lines.cut(piece, (text, line) => {
        const row = parseLine(text, line);
        if (row) batch.push(row);
      });
      if (batch.length > 0) yield batch;
    }
    const last = parseLine(lines.takeRest(), lines.lines + 1);
    if (last) yield [last];
  }
  return { unit: 'line', textual: false, rows: rows(), bytesRead: () => counter.bytes };
}

const JSON_ROWS_PER_BATCH = 1000;

/** Rows already parsed from a JSON body `{rows: [...]}`. */
export function jsonArraySource(rows: readonly unknown[], bodyBytes: number): RowSource {
  async function* gen(): AsyncIterable<RawRow[]> {
    for (let start = 0; start < rows.length; start += JSON_ROWS_PER_BATCH) {
      const batch: RawRow[] = [];
      const end = Math.min(rows.length, start + JSON_ROWS_PER_BATCH);
      for (let i = start; i < end; i++) batch.push({ line: i + 1, record: asRecord(rows[i], `row ${i + 1}`) });
      yield batch;
    }
  }
  return { unit: 'row', textual: false, rows: gen(), bytesRead: () => bodyBytes };
}

/** The media type of a Content-Type header, without parameters, lower-cased ('' when absent). */
export function mediaTypeOf(contentType: string | undefined): string {
  if (contentType === 'application/json') return contentType; // nearly every predict call: no split, trim or copy
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The row formats a body can stream in. */
export type StreamedFormat = 'csv' | 'ndjson';

/** The streamed format of a media type; null for any other type. */
export function streamedFormatOf(type: string): StreamedFormat | null {
  if (type === 'text/csv') return 'csv';
  if (type === 'application/x-ndjson') return 'ndjson';
  return null;
}

/** A streamed body of a known format as rows. */
export function formatRowSource(format: StreamedFormat, body: AsyncIterable<Buffer | Uint8Array | string>, maxBytes: number): RowSource {
  return format === 'csv' ? csvSource(body, maxBytes) : ndjsonSource(body, maxBytes);
}

/** A streamed body as rows, by media type: CSV or NDJSON; null for any other type. */
export function streamedRowSource(type: string, body: AsyncIterable<Buffer | Uint8Array | string>, maxBytes: number): RowSource | null {
  const format = streamedFormatOf(type);
  return format === null ? null : formatRowSource(format, body, maxBytes);
}
