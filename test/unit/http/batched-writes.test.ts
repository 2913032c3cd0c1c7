import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { batchedWritesPlugin } from '../../../src/http/plugins/batched-writes.js';

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
