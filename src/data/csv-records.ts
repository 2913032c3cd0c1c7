/**
 * CSV text → records, each tagged with the line it ends on, in batches.
 *
 * Most uploads are plain lines of unquoted values. Those are split here
 * directly, on line breaks and commas. The first piece of text holding a quote
 * or a carriage return hands that line and the rest of the body to csv-parse,
 * which knows every corner of the format. Its output and its line numbers are
 * those csv-parse gives for the whole body. On a million-row upload, csv-parse
 * spent most of its time turning each field back and forth between bytes and
 * text.
 */
import { Parser } from 'csv-parse';
import { AppError, errors } from '../errors.js';
import { LineCutter } from './line-cutter.js';

/** One CSV record and the (1-based) line it ends on. */
export interface LinedRecord {
  record: string[];
  line: number;
}

/**
 * The records of CSV text arriving in pieces; empty lines are skipped. A
 * malformed body is a validation error naming the line. Records are not
 * checked against each other's length: the caller knows the header.
 * `linesBefore`: the text starts a line after that many lines of the body.
 */
export async function* csvRecords(texts: AsyncIterator<string>, linesBefore = 0): AsyncIterable<LinedRecord[]> {
  const lines = new LineCutter(linesBefore);
  for (;;) {
    const next = await texts.next();
    if (next.done) break;
    const piece = next.value;
    if (piece.includes('"') || piece.includes('\r')) {
      // From the start of this line on, csv-parse decides. Text before it had only `\n` breaks, so csv-parse would
      // have taken `\n` as the record delimiter for the whole body: it is told so, not left to guess again.
      yield* parsedByCsvParse(lines.takeRest() + piece, texts, lines.lines, lines.lines > 0 ? '\n' : undefined);
      return;
    }
    const batch: LinedRecord[] = [];
    lines.cut(piece, (text, line) => {
      if (text !== '') batch.push({ record: text.split(','), line });
    });
    if (batch.length > 0) yield batch;
  }
  const last = lines.takeRest();
  if (last !== '') yield [{ record: last.split(','), line: lines.lines + 1 }];
}

/** The rest of the body through csv-parse, from `first` (which starts a line after `linesBefore` line breaks). */
async function* parsedByCsvParse(first: string, rest: AsyncIterator<string>, linesBefore: number, recordDelimiter: string | undefined): AsyncIterable<LinedRecord[]> {
  const parser = new LineTaggingParser({
    bom: linesBefore === 0, // a byte-order mark is only one at the start of the body
    skip_empty_lines: true,
    relax_column_count: true,
    ...(recordDelimiter === undefined ? {} : { record_delimiter: recordDelimiter }),
  });
  // Its line count starts where this text does, so its records and its error messages name the body's lines.
  (parser.info as { lines: number }).lines += linesBefore;
  const feed = (async () => {
    // Iterated by hand: once the parser is gone the rest of the body is left unread, never `return()`ed,
    // because ending a request stream early resets the connection before the error can be answered.
    try {
      if (!parser.write(first)) await drainedOrClosed(parser);
      for (;;) {
        const next = await rest.next();
        if (parser.destroyed) return;
        if (next.done) break;
        if (!parser.write(next.value)) await drainedOrClosed(parser);
      }
      parser.end();
    } catch (err) {
      parser.destroy(err as Error);
    }
  })();
  let readToEnd = false;
  try {
    yield* recordBatches(parser);
    readToEnd = true;
  } catch (err) {
    if (err instanceof AppError) throw err; // the body's own (too large, not UTF-8)
    const e = err as Error & { lines?: number };
    throw errors.validation(`${e.lines !== undefined ? `line ${e.lines}: ` : ''}malformed CSV: ${e.message}`, {
      ...(e.lines !== undefined ? { line: e.lines } : {}),
    });
  } finally {
    // Stopped early (a bad row, a cancelled request): the parser goes, so a feed waiting for it to drain stops too.
    if (readToEnd) await feed;
    else parser.destroy();
  }
}

/**
 * The parser's records as they are parsed, all those buffered at a time: one write of text yields its whole batch
 * of records at once, where the stream's own async iterator would take a promise per record.
 */
async function* recordBatches(parser: Parser): AsyncIterable<LinedRecord[]> {
  // A failure is read from `parser.errored` below; this listener only keeps it from being an uncaught 'error' event
  // when the parser is destroyed between two reads (a cancelled upload).
  parser.on('error', () => {});
  for (;;) {
    // Records parsed before a failure still come first: an earlier line's defect (a short record, which the caller
    // checks) is the one to report.
    const batch: LinedRecord[] = [];
    for (let record = parser.read() as LinedRecord | null; record !== null; record = parser.read() as LinedRecord | null) batch.push(record);
    if (batch.length > 0) {
      yield batch;
      continue;
    }
    if (parser.errored) throw parser.errored;
    if (parser.readableEnded) return;
    // Never a silently shortened body: closed before its end without an error is still a failure.
    if (parser.destroyed) throw new Error('the parser closed before the end of the body');
    await readableAgain(parser);
  }
}

/** Settles when `stream` has more to read, has ended, or has closed (as it does after failing). */
function readableAgain(stream: Parser): Promise<void> {
  return new Promise((resolve) => {
    const settle = () => {
      stream.off('readable', settle);
      stream.off('end', settle);
      stream.off('close', settle);
      resolve();
    };
    stream.on('readable', settle);
    stream.on('end', settle);
    stream.on('close', settle);
  });
}

/**
 * csv-parse's parser with each record tagged with the line it ends on: the number its `info` option reports, read
 * when the record is pushed. That option copies the parser's whole state into two fresh objects per record, which
 * was a third of the time a million-row upload took to parse, and most of its garbage.
 */
class LineTaggingParser extends Parser {
  override push(record: unknown, encoding?: BufferEncoding): boolean {
    return super.push(record === null ? null : ({ record: record as string[], line: this.info.lines } satisfies LinedRecord), encoding);
  }
}

/** Resolves when a writable stream can take more, or is gone. */
function drainedOrClosed(stream: NodeJS.WritableStream & NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}
