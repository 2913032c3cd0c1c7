/**
 * The byte-level reader of plain numeric CSV against the general readers it
 * stands in for: the same matrix bit for bit, and the same error for the same
 * bad body, however the body is cut into chunks and wherever the first line
 * it does not understand falls.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { csvSource } from '../../../src/data/row-sources.js';
import { AppError } from '../../../src/errors.js';
import type { FeatureSpec } from '../../../src/models/model-spec.js';
import { encodeRowSource } from '../../../src/models/row-matrix.js';
import { encodeStreamedRows } from '../../../src/models/streamed-rows.js';

const SPECS: FeatureSpec[] = [
  { name: 'a', type: 'number', kind: 'numeric' },
  { name: 'b', type: 'integer', kind: 'numeric' },
  { name: 'c', type: 'number', kind: 'numeric' },
];
const PREFIX = [7];

async function* chunked(text: string | Uint8Array, size: number): AsyncIterable<Buffer> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) yield Buffer.from(bytes.subarray(at, at + size));
}

type Outcome = { rows: number; width: number; bits: number[] } | { error: { code: string; message: string } };

async function outcome(run: () => Promise<{ data: Float32Array; rows: number; width: number }>): Promise<Outcome> {
  try {
    const m = await run();
    return { rows: m.rows, width: m.width, bits: Array.from(new Uint32Array(m.data.buffer, m.data.byteOffset, m.data.length)) };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { error: { code: error.code, message: error.message } };
  }
}

/** Both readers on the same body and chunking; their outcomes must be equal. */
async function assertSameAsGeneral(body: string | Uint8Array, chunkSizes = [1, 3, 17, 64, 4096], specs = SPECS, maxBytes = 1 << 26): Promise<Outcome> {
  let first: Outcome | undefined;
  for (const size of chunkSizes) {
    const general = await outcome(() => encodeRowSource(specs, csvSource(chunked(body, size), maxBytes), PREFIX));
    const fast = await outcome(() => encodeStreamedRows(specs, 'csv', chunked(body, size), maxBytes, PREFIX));
    assert.deepEqual(fast, general, `chunks of ${size} bytes`);
    first ??= fast;
  }
  return first!;
}

describe('plain numeric CSV read from bytes', () => {
  test('every way of writing a number gives Number(text), stored as float32', async () => {
    const spellings = ['0', '-0', '+5', '1.5', '.5', '5.', '5.e3', '1e5', '1E-5', '00012', '0.000001234', '123456789012345678', '0.1',
      '3.4028235e38', '1e-320', '4.9e-324', '-1.7976931348623157e308', '1e-99999', '9007199254740993', '0.30000000000000004', ''];
    const lines = spellings.map((s, i) => `${s},${i},${spellings[spellings.length - 1 - i]}`);
    const result = await assertSameAsGeneral(`a,b,c\n${lines.join('\n')}\n`);
    assert.ok('rows' in result && result.rows === spellings.length);
  });

  test('random numbers in the forms people and programs print them', async () => {
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const x = (next() - 0.5) * 10 ** Math.floor(next() * 30 - 15);
      const forms = [String(x), x.toFixed(Math.floor(next() * 8)), x.toExponential(Math.floor(next() * 16)), String(Math.fround(x)), String(Math.round(x * 1000))];
      lines.push(`${forms[i % 5]},${forms[(i + 1) % 5]},${forms[(i + 2) % 5]}`);
    }
    await assertSameAsGeneral(`a,b,c\n${lines.join('\n')}\n`, [7, 1000, 65536]);
  });

  test('columns are matched by name: extra columns ignored, absent features missing, any order', async () => {
    await assertSameAsGeneral('c,id,a\n1,x-1,2\n3,x-2,4\n');
    await assertSameAsGeneral(' c , a ,b\n1,2,3\n');
  });

  test('empty lines are skipped, and the last line needs no line break', async () => {
    const result = await assertSameAsGeneral('\na,b,c\n\n1,2,3\n\n4,5,6');
    assert.ok('rows' in result && result.rows === 2);
  });

  const handedOver: Array<[string, string]> = [
    ['a quoted field', 'a,b,c\n1,2,3\n4,"5",6\n7,8,9\n'],
    ['a quoted field spanning lines', 'a,b,c\n1,2,3\n4,5,"6\n"\n7,8,9\n'],
    ['carriage returns', 'a,b,c\r\n1,2,3\r\n4,5,6\r\n'],
    ['a carriage return after plain lines', 'a,b,c\n1,2,3\n4,5,6\r\n7,8,9\n'],
    ['true and false', 'a,b,c\n1,2,3\ntrue,false,3\n'],
    ['spaces around a number', 'a,b,c\n1,2,3\n 4 ,5,6\n'],
    ['hexadecimal', 'a,b,c\n0x10,2,3\n'],
    ['a byte-order mark', '\ufeffa,b,c\n1,2,3\n'],
    ['text outside ASCII in an ignored column', 'a,b,c,note\n1,2,3,été\n4,5,6,ok\n'],
    ['a tab in the header', 'a\tx,b,c\n1,2,3\n'],
  ];
  for (const [name, body] of handedOver) {
    test(`${name}: the general reader takes over from that line, same rows`, async () => {
      const result = await assertSameAsGeneral(body);
      assert.ok('rows' in result, JSON.stringify(result));
    });
  }

  const bad: Array<[string, string, RegExp]> = [
    ['a word for a number', 'a,b,c\n1,2,3\n1,five,3\n', /^line 3, b: expected a number, got "five"$/],
    ['NaN', 'a,b,c\nNaN,2,3\n', /^line 2, a: expected a number/],
    ['a number too large for a double', 'a,b,c\n1e400,2,3\n', /^line 2, a: /],
    ['a short row', 'a,b,c\n1,2,3\n4,5\n', /^line 3: malformed CSV/],
    ['a trailing comma', 'a,b,c\n1,2,3,\n', /^line 2: malformed CSV/],
    ['an unterminated quote', 'a,b,c\n1,2,"3\n', /malformed CSV/],
    ['a repeated header column', 'a,b,a\n1,2,3\n', /^line 1: column 'a' appears twice/],
    ['an empty header name', 'a,,c\n1,2,3\n', /^line 1: the CSV header has an empty column name/],
    ['an empty body', '', /^empty body/],
    ['a header without rows', 'a,b,c\n', /^body: no rows to predict$/],
    ['only empty lines after the header', 'a,b,c\n\n\n', /^body: no rows to predict$/],
  ];
  for (const [name, body, pattern] of bad) {
    test(`${name}: the same error`, async () => {
      const result = await assertSameAsGeneral(body);
      assert.ok('error' in result, JSON.stringify(result));
      assert.equal(result.error.code, 'validation_failed');
      assert.match(result.error.message, pattern);
    });
  }

  test('bytes that are not UTF-8 are refused, near where they start', async () => {
    const body = Buffer.concat([Buffer.from('a,b,c\n1,2,3\n'), Buffer.from([0x31, 0xff, 0x2c, 0x32, 0x2c, 0x33, 0x0a])]);
    const result = await outcome(() => encodeStreamedRows(SPECS, 'csv', chunked(body, 12), 1 << 20, PREFIX));
    assert.deepEqual(result, { error: { code: 'validation_failed', message: 'body is not valid UTF-8 (near byte 12)' } });
  });

  test('the size limit counts every byte, before and after a hand-over', async () => {
    const plain = `a,b,c\n${'1,2,3\n'.repeat(2000)}`;
    for (const body of [plain, `${plain}4,"5",6\n${'1,2,3\n'.repeat(2000)}`]) {
      const result = await assertSameAsGeneral(body, [64, 4096], SPECS, plain.length - 10);
      assert.ok('error' in result && result.error.code === 'payload_too_large');
      assert.ok('rows' in (await assertSameAsGeneral(body, [4096], SPECS, body.length)));
    }
  });

  test('features read as dates or category names take the general reader', async () => {
    const specs: FeatureSpec[] = [
      { name: 'a', type: 'date', kind: 'numeric' },
      { name: 'b', type: 'string', kind: 'categorical', categories: ['x', 'y'] },
    ];
    await assertSameAsGeneral('a,b\n2024-01-02,y\n2024-03-04,x\n', [5, 4096], specs);
  });
});
