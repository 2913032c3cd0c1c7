/**
 * Bad uploads get a clear 4xx naming the problem, and the dataset is exactly as
 * it was before: uploads are all-or-nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';

let t: TestPlatform;
let a: TestTenant;
before(async () => {
  t = await startTestPlatform({ TENANTML_MAX_UPLOAD: '8MB', TENANTML_MAX_JSON_BODY: '4MB' });
  a = await t.createTenant('bad-a');
  await t.call(a.key, 'POST', '/v1/datasets', { name: 'd', columns: [{ name: 'id', type: 'integer' }, { name: 'v', type: 'number' }, { name: 's', type: 'string' }] });
  const ok = await t.call(a.key, 'POST', '/v1/datasets/d/rows', 'id,v,s\n1,1.5,a\n2,2.5,b\n', { 'content-type': 'text/csv' });
  assert.equal(ok.statusCode, 200);
});
after(() => t.close());

async function expectRejected(body: string | Buffer | object, contentType: string | undefined, status: number, message: RegExp) {
  const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
  const res = await t.call(a.key, 'POST', '/v1/datasets/d/rows', body, headers);
  assert.equal(res.statusCode, status, res.body);
  assert.match(res.json().error.message, message);
  const ds = (await t.call(a.key, 'GET', '/v1/datasets/d')).json();
  assert.equal(ds.rowCount, 2, 'row count unchanged');
  const rows = (await t.call(a.key, 'GET', '/v1/datasets/d/rows')).json().rows;
  assert.deepEqual(rows.map((r: { id: number }) => r.id), [1, 2], 'stored rows unchanged');
  const pending = await t.platform.db.withTenant(a.id, (tx) => tx.query(`select 1 from dataset_rows r join dataset_uploads u on u.id = r.upload_id where u.state <> 'committed'`));
  assert.equal(pending.rowCount, 0, 'no half-written rows left behind');
  return res.json().error;
}

test('malformed CSV names the line', async () => {
  await expectRejected('id,v,s\n3,1,"unterminated\n', 'text/csv', 400, /malformed CSV/);
  await expectRejected('id,v,s\n3,1,a\n4,2\n', 'text/csv', 400, /line 3/);
});

test('a wrong type in row 9,999 of 10,000 rejects the whole upload, naming line and column', async () => {
  const lines = ['id,v,s'];
  for (let i = 1; i <= 10_000; i++) lines.push(i === 9_999 ? `${i},oops,x` : `${i},${i / 10},x`);
  const err = await expectRejected(lines.join('\n'), 'text/csv', 400, /line 10000, column 'v' \(number\): 'oops' is not a number/);
  assert.deepEqual(err.details, { line: 10000, column: 'v' });
});

test('NaN and Infinity are refused in CSV and NDJSON', async () => {
  await expectRejected('id,v,s\n3,NaN,a\n', 'text/csv', 400, /line 2, column 'v'.*not a finite number/);
  await expectRejected('id,v,s\n3,-Infinity,a\n', 'text/csv', 400, /not a finite number/);
  await expectRejected('{"id":3,"v":NaN,"s":"a"}\n', 'application/x-ndjson', 400, /line 1: invalid JSON/);
});

test('wrong JSON types and unknown fields are named', async () => {
  await expectRejected({ rows: [{ id: 3, v: '1.5', s: 'a' }] }, undefined, 400, /row 1, column 'v' \(number\): expected a number/);
  await expectRejected({ rows: [{ id: 3, v: 1, s: 'a', extra: 1 }] }, undefined, 400, /row 1: unknown column 'extra'/);
  await expectRejected({ rows: [], more: true }, undefined, 400, /unknown field 'more'/);
  await expectRejected({ rows: [{ id: 1.5, v: 1, s: 'a' }] }, undefined, 400, /expected an integer/);
  await expectRejected({ rows: [5] }, undefined, 400, /row 1: expected a JSON object/);
});

test('empty bodies are refused', async () => {
  await expectRejected('', 'text/csv', 400, /empty body|no rows/);
  await expectRejected('id,v,s\n', 'text/csv', 400, /no rows/);
  await expectRejected({ rows: [] }, undefined, 400, /no rows/);
  await expectRejected('', 'application/x-ndjson', 400, /no rows/);
  const emptyJson = await t.call(a.key, 'POST', '/v1/datasets/d/rows', '', { 'content-type': 'application/json' });
  assert.equal(emptyJson.statusCode, 400);
});

test('invalid UTF-8 is refused', async () => {
  const bad = Buffer.concat([Buffer.from('id,v,s\n3,1,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);
  await expectRejected(bad, 'text/csv', 400, /not valid UTF-8/);
});

test('a 50 MB body is refused with 413, declared or streamed', async () => {
  const big = Buffer.alloc(50 * 1024 * 1024, 'a');
  await expectRejected(big, 'text/csv', 413, /exceeds the limit/);
  await expectRejected(big, 'application/json', 413, /larger than the limit/);
  // Streamed without a Content-Length over a real socket: the reader counts bytes as they arrive.
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(Buffer.from('id,v,s\n'));
      for (let i = 0; i < 2000; i++) controller.enqueue(Buffer.from(`${i},1,${'x'.repeat(5000)}\n`));
      controller.close();
    },
  });
  const res = await fetch(`${address}/v1/datasets/d/rows`, {
    method: 'POST',
    headers: { authorization: `Bearer ${a.key}`, 'content-type': 'text/csv' },
    body,
    duplex: 'half',
  } as RequestInit);
  assert.equal(res.status, 413);
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /exceeds the limit/);
  assert.equal((await t.call(a.key, 'GET', '/v1/datasets/d')).json().rowCount, 2);
});

test('unsupported content types get 415 naming the accepted ones', async () => {
  await expectRejected('<rows/>', 'application/xml', 415, /unsupported content type 'application\/xml'/);
});

test('bad dataset definitions are refused', async () => {
  const dupCols = await t.call(a.key, 'POST', '/v1/datasets', { name: 'x', columns: [{ name: 'a', type: 'number' }, { name: 'a', type: 'string' }] });
  assert.equal(dupCols.statusCode, 400);
  assert.match(dupCols.json().error.message, /appears twice/);
  const badType = await t.call(a.key, 'POST', '/v1/datasets', { name: 'x', columns: [{ name: 'a', type: 'float' }] });
  assert.equal(badType.statusCode, 400);
  assert.match(badType.json().error.message, /columns/);
  const badName = await t.call(a.key, 'POST', '/v1/datasets', { name: '../etc' });
  assert.equal(badName.statusCode, 400);
  assert.match(badName.json().error.message, /name/);
});
