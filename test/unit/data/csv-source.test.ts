import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'csv-parse';
import { csvSource, jsonArraySource, ndjsonSource, type RawRow, type RowSource } from '../../../src/data/row-sources.js';
import { mulberry32 } from '../../support/seeded-random.js';

/** The body in pieces of `size` bytes, so records and line breaks fall across chunk boundaries. */
async function* pieces(text: string, size: number): AsyncIterable<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function rowsOf(text: string, size: number): Promise<RawRow[]> {
  const rows: RawRow[] = [];
  for await (const batch of csvSource(pieces(text, size), 1 << 20).rows) rows.push(...batch);
  return rows;
}

/** What csv-parse's own `info` option reports for the same body: the reference for line numbers. */
async function referenceRows(text: string): Promise<RawRow[]> {
  const rows: RawRow[] = [];
  let header: string[] | undefined;
  const parser = parse({ bom: true, skip_empty_lines: true, info: true, relax_column_count: false });
  parser.end(text);
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    if (header === undefined) {
      header = record.map((h) => h.trim());
      continue;
    }
    rows.push({ line: info.lines, record: Object.fromEntries(header.map((h, i) => [h, record[i]])) });
  }
  return rows;
}

const bodies: Record<string, string> = {
  'plain lines': 'a,b\n1,2\n3,4\n',
  'no final newline': 'a,b\n1,2\n3,4',
  'CRLF line ends': 'a,b\r\n1,2\r\n3,4\r\n',
  'CRLF after LF lines': 'a,b\n1,2\n3,4\r\n5,6\n7,8\n',
  'empty lines between rows': 'a,b\n\n1,2\n\n\n3,4\n\n',
  'quoted fields across lines': 'a,b\n"one\ntwo",2\n3,"x\r\ny\nz"\n5,6\n',
  'escaped quotes and commas': 'a,b\n"say ""hi""",2\n"1,5",3\n',
  'a byte-order mark': '\uFEFFa,b\n1,2\n',
  'multi-byte characters': 'name,v\nÄpfel,1\n日本,2\n',
};

for (const [name, body] of Object.entries(bodies)) {
  test(`CSV rows carry the line csv-parse's info reports: ${name}`, async () => {
    const expected = await referenceRows(body);
    assert.ok(expected.length > 0);
    for (const size of [1, 3, 7, 4096]) assert.deepEqual(await rowsOf(body, size), expected, `in chunks of ${size} bytes`);
  });
}

test('malformed CSV is refused with the line it was found on', async () => {
  await assert.rejects(rowsOf('a,b\n1,2\n3\n', 2), /: line 3: malformed CSV: 1 field where the header has 2$/);
  await assert.rejects(rowsOf('a,b\n1,"2\n', 5), /malformed CSV: Quote Not Closed/);
});

/** The sizes of the batches a source yields. */
async function batchSizes(source: RowSource): Promise<number[]> {
  const sizes: number[] = [];
  for await (const batch of source.rows) sizes.push(batch.length);
  return sizes;
}

// An async step per row was most of what parsing a large body allocated: rows come a read's worth at a time.
test('rows arrive in batches, a chunk of the body at a time, in order', async () => {
  const rows = 2000;
  const csv = `a,b\n${Array.from({ length: rows }, (_, i) => `${i},${i % 7}`).join('\n')}\n`;
  const chunks = Math.ceil(Buffer.byteLength(csv) / 4096);
  const csvSizes = await batchSizes(csvSource(pieces(csv, 4096), 1 << 20));
  assert.equal(csvSizes.reduce((a, b) => a + b, 0), rows);
  assert.ok(csvSizes.length <= chunks + 1, `${csvSizes.length} batches for ${chunks} chunks`);
  assert.deepEqual((await rowsOf(csv, 4096)).map((r) => r.record.a), Array.from({ length: rows }, (_, i) => String(i)));

  const ndjson = `${Array.from({ length: rows }, (_, i) => JSON.stringify({ a: i, b: i % 7 })).join('\n')}\n`;
  const ndjsonSizes = await batchSizes(ndjsonSource(pieces(ndjson, 4096), 1 << 20));
  assert.equal(ndjsonSizes.reduce((a, b) => a + b, 0), rows);
  assert.ok(ndjsonSizes.length <= Math.ceil(Buffer.byteLength(ndjson) / 4096) + 1);

  const json = jsonArraySource(Array.from({ length: rows }, (_, i) => ({ a: i })), 0);
  const lines: number[] = [];
  for await (const batch of json.rows) lines.push(...batch.map((r) => r.line));
  assert.deepEqual(lines, Array.from({ length: rows }, (_, i) => i + 1));
});

/** A random CSV body (reproducible from its seed) of three columns: plain or quoted values, quotes and line breaks inside quotes, empty lines, CRLF, and now and then a defect. */
function randomCsv(seed: number): string {
  const rand = mulberry32(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)]!;
  const eol = pick(['\n', '\n', '\r\n', 'mixed']);
  const lineEnd = () => (eol === 'mixed' ? pick(['\n', '\r\n']) : eol);
  const quotedFrom = Math.floor(rand() * 40); // rows before this one are never quoted: the plain path reads them
  const value = (row: number) =>
    row < quotedFrom
      ? pick(['1', '-2.5', '', 'word', ' spaced ', 'Äpfel', '1e3'])
      : pick(['3', '', 'x', '"a, b"', '"two\nlines"', '"say ""hi"""', '"crlf\r\ninside"', '""']);
  let body = pick(['a,b,c', 'a,b,c', '"a",b,c']) + lineEnd();
  const rows = Math.floor(rand() * 60);
  for (let r = 0; r < rows; r++) {
    if (rand() < 0.1) body += lineEnd(); // an empty line
    const fields = [value(r), value(r), value(r)];
    const defect = rand();
    if (defect < 0.02) fields.pop(); // too few fields
    else if (defect < 0.03) fields[1] = 'ab"c'; // a quote inside an unquoted field
    else if (defect < 0.04) fields[2] = '"unclosed'; // a quote never closed
    body += fields.join(',') + (r === rows - 1 && rand() < 0.3 ? '' : lineEnd());
  }
  return body;
}

test('CSV records and line numbers match csv-parse on random bodies, whatever the chunking', async () => {
  let refused = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const body = randomCsv(seed);
    let expected: RawRow[] | Error;
    try {
      expected = await referenceRows(body);
    } catch (error) {
      expected = error as Error;
    }
    for (const size of [1, 5, 64, 4096]) {
      const label = `seed ${seed}, chunks of ${size}: ${JSON.stringify(body.slice(0, 200))}`;
      if (expected instanceof Error) {
        const reason = expected;
        await assert.rejects(rowsOf(body, size), (error: Error) => {
          const length = /^Invalid Record Length: expect (\d+), got (\d+) on line (\d+)/.exec(reason.message);
          // The same refusal, named at the same line: the record length is checked here, everything else by csv-parse.
          if (length) assert.match(error.message, new RegExp(`^line ${length[3]}: malformed CSV: ${length[2]} fields? where the header has ${length[1]}$`), label);
          else assert.ok(error.message.endsWith(`malformed CSV: ${reason.message}`), `${label}: ${error.message} /// ${reason.message}`);
          return true;
        });
        if (size === 1) refused++;
      } else {
        assert.deepEqual(await rowsOf(body, size), expected, label);
      }
    }
  }
  assert.ok(refused > 10 && refused < 390, `${refused} of 400 bodies refused`); // both paths of the comparison ran
});
