import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { errors } from '../../errors.js';

/** Content types whose bodies reach the route as a stream, to be parsed row by row. */
export const STREAMED_TYPES = ['text/csv', 'application/x-ndjson'] as const;

/**
 * JSON bodies are buffered under `maxJsonBodyBytes`; CSV and NDJSON stream
 * through untouched (their readers enforce `maxUploadBytes` as bytes arrive),
 * so a large upload never sits in memory whole. A declared Content-Length over
 * the limit is refused before a byte is read.
 */
export const bodyParsersPlugin = fp(
  async (app: FastifyInstance, opts: { maxUploadBytes: number }) => {
    for (const type of STREAMED_TYPES) {
      app.addContentTypeParser(type, (request, payload, done) => {
        const declared = Number(request.headers['content-length'] ?? 0);
        if (declared > opts.maxUploadBytes) {
          done(errors.payloadTooLarge(`upload of ${declared} bytes exceeds the limit of ${opts.maxUploadBytes} bytes`), undefined);
          return;
        }
        done(null, payload);
      });
    }
  },
  { name: 'tenantml-body-parsers' },
);
