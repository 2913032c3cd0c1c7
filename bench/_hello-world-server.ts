/**
 * The throughput ceiling of the serving bench: a bare Fastify hello-world in a
 * process of its own, so nothing else shares its event loop or its heap (in
 * the bench's process it ran beside the whole platform: the embedded
 * database, the usage flushes and every tenant's cached state, and measured
 * lower than it does alone). Sends `{ origin }` over IPC once it listens and
 * exits when the parent goes.
 */
import Fastify from 'fastify';

const hello = Fastify({ logger: false });
hello.get('/hello', async () => ({ hello: 'world' }));
hello.post('/hello', async () => ({ hello: 'world' }));
const origin = await hello.listen({ port: 0, host: '127.0.0.1' });
process.send?.({ origin });
process.on('disconnect', () => void hello.close().then(() => process.exit(0)));
