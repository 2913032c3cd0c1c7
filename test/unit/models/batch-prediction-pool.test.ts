/**
 * Streamed batches on a batch-prediction thread against the same batch on the
 * event loop: the same answer text byte for byte, the same error for the same
 * bad input, and a cancelled batch stops the thread's work. On Linux the
 * threads run below the event loop.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StreamedFormat } from '../../../src/data/row-sources.js';
import { AppError } from '../../../src/errors.js';
import { compileForest, predictorFromCompiled, serializeModel } from '../../../src/gbdt/index.js';
import { sha256Hex } from '../../../src/models/artifact-publish.js';
import { type BatchPredictionPool, type BatchSession, createBatchPredictionPool } from '../../../src/models/batch-prediction-pool.js';
import { predictionsJson } from '../../../src/models/prediction-json.js';
import { smallChunks } from '../../../src/models/row-matrix.js';
import { encodeStreamedRows } from '../../../src/models/streamed-rows.js';
import type { ServingTarget } from '../../../src/models/serving-target.js';
import { type ArtifactStore, createArtifactStore } from '../../../src/storage/artifact-store.js';
import { FEATURES, tinyModel } from '../../support/serving-models.js';

const model = tinyModel(12, 5);
const predictor = predictorFromCompiled(compileForest(model));
const payload = serializeModel(model);
const MAX_BYTES = 32 * 1024 * 1024;
let dir: string;
let artifacts: ArtifactStore;
let pool: BatchPredictionPool;

function targetFor(artifactKey: string, prefix: number[] = []): ServingTarget {
  return {
    tenantId: 't1',
    name: 'm',
    source: 'tenant',
    version: 1,
    artifactKey,
    artifactSha256: sha256Hex(payload),
    spec: { objective: model.objective.name, params: {}, dataset: null, target: null, features: FEATURES.map((name) => ({ name, type: 'number', kind: 'numeric' })) },
    prefix,
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tenantml-batch-'));
  artifacts = createArtifactStore({ kind: 'folder', dir });
  await artifacts.put('tenants/t1/models/m/1', payload);
  pool = createBatchPredictionPool({ threads: 1, artifacts });
});
after(async () => {
  await pool.close();
  await artifacts.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The body in chunks of `size` bytes, as a socket delivers it. */
async function* chunked(text: string, size = 64 * 1024): AsyncIterable<Buffer> {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) yield Buffer.from(bytes.subarray(at, at + size));
}

/** The answer on the event loop, as without a batch pool. */
async function onLoop(format: StreamedFormat, body: string, maxBytes = MAX_BYTES): Promise<string> {
  const x = await encodeStreamedRows(targetFor('').spec.features, format, smallChunks(chunked(body)), maxBytes, []);
  let text = '';
  for await (const piece of predictionsJson(predictor.predictBatch(x.data), { name: 'm', version: 1, source: 'tenant' })) text += piece;
  return text;
}

/** The answer on a batch thread, in slices of `sliceRows` as the scheduler grants them. */
async function onThread(format: StreamedFormat, body: string, options: { sliceRows?: number; maxBytes?: number; key?: string } = {}): Promise<string> {
  const session = pool.open({ format, target: targetFor(options.key ?? 'tenants/t1/models/m/1'), maxBytes: options.maxBytes ?? MAX_BYTES });
  try {
    const rows = await session.encode(chunked(body));
    // As the service does: every slice predicted, then their text taken in order.
    const slices = [];
    for (let start = 0; start < rows; start += options.sliceRows ?? 2000) {
      slices.push(await session.predict(start, Math.min(rows, start + (options.sliceRows ?? 2000))));
    }
    let text = '{"predictions":[';
    for (const slice of slices) text += Buffer.from(await session.take(slice)).toString('utf8');
    return `${text}],"model":{"name":"m","version":1,"source":"tenant"}}`;
  } finally {
    session.close();
  }
}

async function errorOf(run: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await run;
  } catch (error) {
    assert.ok(error instanceof AppError, `an AppError, got ${String(error)}`);
    return { code: error.code, message: error.message };
  }
  assert.fail('expected a failure');
}

const csvRows = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const x0 = i % 17 === 0 ? '' : ((i * 7) % 100) / 10;
    const x1 = i % 5 === 0 ? 'true' : i % 11 === 0 ? 'false' : (i * 3) % 10;
    return `n${i},${(i * 13) % 9.5},${x0},${x1}`;
  });

describe('the batch thread answers exactly as the event loop does', () => {
  test('CSV: columns by name, an extra column, empty fields, booleans, many slices', async () => {
    const body = `note,x2,x0,x1\n${csvRows(25_000).join('\n')}\n`;
    const expected = await onLoop('csv', body);
    assert.equal(await onThread('csv', body), expected);
    assert.equal(await onThread('csv', body, { sliceRows: 777 }), expected, 'slice boundaries do not change the text');
    assert.equal((JSON.parse(expected) as { predictions: unknown[] }).predictions.length, 25_000);
  });

  test('NDJSON: nulls, absent fields, booleans and blank lines', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) =>
      i % 97 === 0 ? '' : JSON.stringify({ x0: i % 13 === 0 ? null : (i % 10) / 3, x1: i % 7 === 0 ? true : i % 4, ...(i % 9 === 0 ? {} : { x2: -i / 1000 }) }),
    );
    const body = lines.join('\n');
    assert.equal(await onThread('ndjson', body), await onLoop('ndjson', body));
  });

  test('chunks split inside multi-byte characters and inside lines', async () => {
    const body = `x0,x1,x2,note\n${Array.from({ length: 3000 }, (_, i) => `${i % 10},${i % 3},${i % 7},"é€😀 ${i}"`).join('\n')}\n`;
    const session = pool.open({ format: 'csv', target: targetFor('tenants/t1/models/m/1'), maxBytes: MAX_BYTES });
    try {
      assert.equal(await session.encode(chunked(body, 1001)), 3000);
    } finally {
      session.close();
    }
  });
});

describe('bad input fails on the thread with the event loop’s error', () => {
  const many = (n: number, bad: number, value: string) =>
    `x0,x1,x2\n${Array.from({ length: n }, (_, i) => (i + 2 === bad ? `1,${value},3` : `${i % 10},${i % 3},${i % 7}`)).join('\n')}\n`;
  const cases: Array<[string, StreamedFormat, string, RegExp]> = [
    ['a bad number deep in a large CSV', 'csv', many(60_000, 30_001, 'five'), /^line 30001, x1: expected a number, got "five"$/],
    ['NaN text in CSV', 'csv', many(10, 5, 'NaN'), /^line 5, x1: expected a number/],
    ['a short CSV row', 'csv', 'x0,x1,x2\n1,2,3\n4,5\n', /^line 3: malformed CSV/],
    ['an unterminated quote', 'csv', 'x0,x1,x2\n1,2,"3\n', /malformed CSV/],
    ['a duplicated header column', 'csv', 'x0,x1,x0\n1,2,3\n', /^line 1: column 'x0' appears twice/],
    ['an empty CSV body', 'csv', '', /^empty body/],
    ['a CSV header without rows', 'csv', 'x0,x1,x2\n', /^body: no rows to predict$/],
    ['invalid JSON on an NDJSON line', 'ndjson', '{"x0":1}\n{"x0":2}\n{"x0": oops}\n', /^line 3: invalid JSON/],
    ['a string for a number in NDJSON', 'ndjson', '{"x0":1}\n{"x0":"abc"}\n', /^line 2, x0: expected a number, got "abc"$/],
    ['an array line in NDJSON', 'ndjson', '{"x0":1}\n[1,2,3]\n', /^line 2: expected a JSON object/],
    ['an empty NDJSON body', 'ndjson', '', /^body: no rows to predict$/],
  ];
  for (const [name, format, body, pattern] of cases) {
    test(name, async () => {
      const onLoopError = await errorOf(onLoop(format, body));
      const onThreadError = await errorOf(onThread(format, body));
      assert.deepEqual(onThreadError, onLoopError);
      assert.equal(onThreadError.code, 'validation_failed');
      assert.match(onThreadError.message, pattern);
    });
  }

  test('bytes that are not UTF-8', async () => {
    const session = pool.open({ format: 'csv', target: targetFor('tenants/t1/models/m/1'), maxBytes: MAX_BYTES });
    try {
      const body = (async function* () {
        yield Buffer.from('x0,x1,x2\n1,2,3\n');
        yield Buffer.from([0x31, 0xff, 0x2c, 0x32, 0x2c, 0x33, 0x0a]);
      })();
      const error = await errorOf(session.encode(body));
      assert.deepEqual(error, { code: 'validation_failed', message: 'body is not valid UTF-8 (near byte 15)' });
    } finally {
      session.close();
    }
  });

  test('a body over the size limit is 413 with the same message', async () => {
    const body = many(5000, 0, '');
    const onLoopError = await errorOf(onLoop('csv', body, 10_000));
    assert.deepEqual(await errorOf(onThread('csv', body, { maxBytes: 10_000 })), onLoopError);
    assert.equal(onLoopError.code, 'payload_too_large');
  });

  test('a model whose artifact is gone is a 404 naming the version, at the first slice', async () => {
    await artifacts.put('tenants/t1/models/gone/1', payload);
    unlinkSync(artifacts.localPath!('tenants/t1/models/gone/1'));
    // The thread keeps models by content: a digest it has not built yet forces a read.
    const target = { ...targetFor('tenants/t1/models/gone/1'), artifactSha256: sha256Hex(new Uint8Array([1])) };
    const session = pool.open({ format: 'csv', target, maxBytes: MAX_BYTES });
    try {
      assert.equal(await session.encode(chunked('x0,x1,x2\n1,2,3\n')), 1);
      assert.deepEqual(await errorOf(session.predict(0, 1)), { code: 'not_found', message: "model version 'm@1' not found" });
    } finally {
      session.close();
    }
  });
});

describe('cancellation', () => {
  /** Endless CSV rows; counts the chunks taken. */
  function endless(): { body: AsyncIterable<Buffer>; pulled: () => number } {
    let pulled = 0;
    const chunk = Buffer.from(`${Array.from({ length: 2000 }, (_, i) => `${i % 10},${i % 3},${i % 7}`).join('\n')}\n`);
    async function* body() {
      yield Buffer.from('x0,x1,x2\n');
      for (;;) {
        pulled++;
        yield Buffer.from(chunk);
        await sleep(1);
      }
    }
    return { body: body(), pulled: () => pulled };
  }

  async function untilIdle(): Promise<void> {
    for (let i = 0; i < 500 && pool.activeSessions() > 0; i++) await sleep(10);
    assert.equal(pool.activeSessions(), 0, 'the thread has let go of every session');
  }

  test('a client gone mid-upload stops the reading and the thread’s parsing', async () => {
    const controller = new AbortController();
    const session: BatchSession = pool.open({ format: 'csv', target: targetFor('tenants/t1/models/m/1'), maxBytes: MAX_BYTES, signal: controller.signal });
    const { body, pulled } = endless();
    const encoding = session.encode(body);
    while (pulled() < 20) await sleep(5);
    const reason = new AppError('validation_failed', 'the client closed the request');
    controller.abort(reason);
    await assert.rejects(encoding, (error) => error === reason);
    const summary = await session.finished;
    assert.equal(summary.cancelled, true);
    assert.equal(summary.rowsEncoded, 0, 'the body was never read to its end');
    const pulledAtCancel = pulled();
    await sleep(100);
    assert.ok(pulled() <= pulledAtCancel + 1, 'nothing more of the body is read');
    await untilIdle();
  });

  test('a client gone between slices rejects the slice in flight and drops the rows', async () => {
    const controller = new AbortController();
    const session = pool.open({ format: 'csv', target: targetFor('tenants/t1/models/m/1'), maxBytes: MAX_BYTES, signal: controller.signal });
    const rows = await session.encode(chunked(`x0,x1,x2\n${Array.from({ length: 10_000 }, (_, i) => `${i % 10},1,2`).join('\n')}\n`));
    await session.predict(0, 2000);
    const reason = new Error('gone');
    const slice = session.predict(2000, rows);
    controller.abort(reason);
    await assert.rejects(slice, (error) => error === reason);
    await assert.rejects(session.predict(2000, 4000), (error) => error === reason);
    const summary = await session.finished;
    assert.equal(summary.cancelled, true);
    assert.equal(summary.rowsEncoded, 10_000);
    assert.ok(summary.slicesPredicted <= 2);
    await untilIdle();
  });

  test('a client gone while the answer is taken rejects the take and drops the predicted text', async () => {
    const controller = new AbortController();
    const session = pool.open({ format: 'csv', target: targetFor('tenants/t1/models/m/1'), maxBytes: MAX_BYTES, signal: controller.signal });
    const rows = await session.encode(chunked(`x0,x1,x2\n${Array.from({ length: 6000 }, (_, i) => `${i % 10},1,2`).join('\n')}\n`));
    const slices = [await session.predict(0, 3000), await session.predict(3000, rows)];
    assert.match(Buffer.from(await session.take(slices[0]!)).toString('utf8'), /^-?\d/);
    const reason = new Error('gone');
    controller.abort(reason);
    await assert.rejects(session.take(slices[1]!), (error) => error === reason);
    const summary = await session.finished;
    assert.deepEqual(summary, { rowsEncoded: 6000, slicesPredicted: 2, cancelled: true });
    await untilIdle();
  });

  test("a slice's text is taken once: a second take is an internal error, and the session goes on", async () => {
    const session = pool.open({ format: 'csv', target: targetFor('tenants/t1/models/m/1'), maxBytes: MAX_BYTES });
    try {
      await session.encode(chunked('x0,x1,x2\n1,2,3\n4,5,6\n'));
      const first = await session.predict(0, 1);
      const second = await session.predict(1, 2);
      const text = Buffer.from(await session.take(first)).toString('utf8');
      assert.deepEqual(await errorOf(session.take(first)), { code: 'internal', message: 'slice 0 was taken before it was predicted, or twice' });
      const rest = Buffer.from(await session.take(second)).toString('utf8');
      assert.equal(`[${text}${rest}]`, JSON.stringify(Array.from(predictor.predictBatch(new Float32Array([1, 2, 3, 4, 5, 6])))));
    } finally {
      session.close();
    }
    await untilIdle();
  });

  test('sessions on one thread proceed side by side', async () => {
    const body = `x0,x1,x2\n${Array.from({ length: 20_000 }, (_, i) => `${i % 10},${i % 3},${i % 7}`).join('\n')}\n`;
    const expected = await onLoop('csv', body);
    const answers = await Promise.all([onThread('csv', body), onThread('csv', body, { sliceRows: 5000 }), onThread('csv', body, { sliceRows: 333 })]);
    for (const answer of answers) assert.equal(answer, expected);
    await untilIdle();
  });
});

describe('scheduling', () => {
  /** Nice value and scheduling policy of each thread of this process, from `/proc/self/task/<tid>/stat`. */
  function threadPriorities(): { tid: number; nice: number; policy: number }[] {
    return readdirSync('/proc/self/task').flatMap((tid) => {
      try {
        // After the command name in parentheses, fields start at the 3rd: nice is the 19th, policy the 41st.
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return [{ tid: Number(tid), nice: Number(fields[19 - 3]), policy: Number(fields[41 - 3]) }];
      } catch {
        return []; // a thread that ended while listed
      }
    });
  }
  // Not imported: importing `batch-thread-priority.ts` lowers the importing thread, here the test's event loop.
  const BATCH_THREAD_NICE = 19;
  const SCHED_OTHER = 0;
  const SCHED_IDLE = 5;

  test('a batch thread runs below the event loop: SCHED_IDLE where chrt can set it, nice 19 in any case', { skip: process.platform !== 'linux' && 'threads are lowered on Linux only' }, async () => {
    await onThread('csv', 'x0,x1,x2\n1,2,3\n'); // the pool's thread is up
    const chrtWorks = spawnSync('chrt', ['--idle', '0', 'true']).status === 0;
    const threads = threadPriorities();
    const lowered = threads.filter((t) => t.nice === BATCH_THREAD_NICE);
    // The pool's one thread, and any thread it started (those inherit its priority).
    assert.ok(lowered.length >= 1, `a thread at the batch nice value; the threads: ${JSON.stringify(threads)}`);
    for (const thread of lowered) assert.equal(thread.policy, chrtWorks ? SCHED_IDLE : SCHED_OTHER);
    const eventLoop = threads.find((t) => t.tid === process.pid);
    assert.deepEqual(eventLoop && { nice: eventLoop.nice, policy: eventLoop.policy }, { nice: 0, policy: SCHED_OTHER }, 'the event loop keeps its priority');
  });
});
