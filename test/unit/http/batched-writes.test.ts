import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { batchedWritesPlugin, MOST_HELD } from '../../../src/http/plugins/batched-writes.js';

async function appWithBatchedWrites() {
  const app = Fastify({ logger: false });
  await app.register(batchedWritesPlugin);
  app.get('/echo/:n', async (request) => ({ n: Number((request.params as { n: string }).n) }));
  app.get('/bad-header', async (_request, reply) => {
    reply.header('x-broken', 'line\nbreak');
    return { never: 'sent' };
  });
  return app;
}

describe('batched writes', () => {
  test('concurrent requests finished in one turn each get their own answer', async () => {
    const app = await appWithBatchedWrites();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, n) => app.inject({ method: 'GET', url: `/echo/${n}` })));
    for (const [n, res] of answers.entries()) {
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { n });
    }
    await app.close();
  });

  test('a response that cannot be written is answered with an error, and the others of its turn still go out', async () => {
    const app = await appWithBatchedWrites();
    const [bad, ...good] = await Promise.all([
      app.inject({ method: 'GET', url: '/bad-header' }),
      ...Array.from({ length: 5 }, (_, n) => app.inject({ method: 'GET', url: `/echo/${n}` })),
    ]);
    assert.equal(bad!.statusCode, 500);
    for (const [n, res] of good.entries()) assert.deepEqual(res.json(), { n });
    await app.close();
  });
});

describe('batched writes: groups', () => {
  /** The plugin's onSend hook, taken from a recording stand-in for the app. */
  async function onSendHook(): Promise<(request: unknown, reply: unknown, payload: unknown, done: (err: Error | null, payload?: unknown) => void) => void> {
    let hook: ((...args: never[]) => void) | undefined;
    const recorder = {
      addHook(name: string, fn: (...args: never[]) => void) {
        if (name === 'onSend') hook = fn;
      },
    };
    await (batchedWritesPlugin as unknown as (app: unknown, opts: unknown) => Promise<void>)(recorder, {});
    assert.ok(hook, 'the plugin adds an onSend hook');
    return hook as never;
  }

  test(`a turn's answers leave in groups of ${MOST_HELD} as they finish, the rest at the end of the turn`, async () => {
    const onSend = await onSendHook();
    const written: number[] = [];
    const finish = (n: number) => onSend({}, { sent: false }, `answer ${n}`, (_err, payload) => written.push(Number(String(payload).split(' ')[1])));
    const total = 2 * MOST_HELD + 3;
    for (let n = 0; n < total; n++) {
      finish(n);
      // Written by now: every full group of the answers finished so far, in order.
      assert.deepEqual(written, Array.from({ length: Math.floor((n + 1) / MOST_HELD) * MOST_HELD }, (_, i) => i));
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(written, Array.from({ length: total }, (_, i) => i), 'the last, partial group leaves when the turn ends');
    // A later turn starts a new group and schedules its own end-of-turn write.
    finish(total);
    assert.equal(written.length, total);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(written.length, total + 1);
  });
});
