/**
 * The throughput ceiling of the serving bench: a bare Fastify hello-world.
 * Run as a script it listens in a process of its own, so nothing else shares
 * its event loop or its heap (in the bench's process it ran beside the whole
 * platform: the embedded database, the usage flushes and every tenant's cached
 * state, and measured lower than it does alone); it sends `{ origin }` over
 * IPC once it listens and exits when the parent goes.
 */
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';

/** Starts the hello-world server on a free loopback port. */
export async function listenHelloWorld(): Promise<{ origin: string; close(): Promise<void> }> {
  const hello = Fastify({ logger: false });
  hello.get('/hello', async () => ({ hello: 'world' }));
  hello.post('/hello', async () => ({ hello: 'world' }));
  return { origin: await hello.listen({ port: 0, host: '127.0.0.1' }), close: () => hello.close() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const hello = await listenHelloWorld();
  process.send?.({ origin: hello.origin });
  process.on('disconnect', () => void hello.close().then(() => process.exit(0)));
}
