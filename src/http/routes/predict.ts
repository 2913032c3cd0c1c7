import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { mediaTypeOf, type StreamedFormat, streamedFormatOf } from '../../data/row-sources.js';
import { errors } from '../../errors.js';
import { predictionsAnswer } from '../../models/prediction-json.js';
import type { PredictRequest } from '../../models/prediction-service.js';
import type { Platform } from '../../platform.js';
import { tenantOf } from '../plugins/auth.js';
import { errorResponses } from '../schemas/common.js';
import { ForecastBody, ModelParams, PredictBody } from '../schemas/models.js';

const tenant = (operation: string) => ({ operation, auth: 'tenant' as const, limitClass: 'predict' as const });
const tags = ['models'];
const JSON_UTF8 = 'application/json; charset=utf-8';

/**
 * JSON predict bodies are parsed whole (`JSON.parse` blocks the event loop for
 * the whole body), so they are kept small; larger batches stream as CSV or NDJSON.
 */
export const PREDICT_JSON_MAX_BYTES = 4 * 1024 * 1024;

const predictDescription =
  'JSON {rows:[{feature: value}]} or {instances:[[...]]} in the model\'s feature order (at most 100,000 rows and 4 MiB); null or absent is missing. ' +
  'Large batches (up to a million rows and more): send text/csv (header line of feature names, then one row per line; an empty field is missing) ' +
  'or application/x-ndjson (one {feature: value} object per line). They are parsed as they stream in and predicted in batch-lane slices, so they ' +
  'yield to real-time traffic; a bad line is 400 naming it. Predictions are on the response scale, in row order. ' +
  'Charged one prediction per row against dailyPredictions/monthlyPredictions (429 quota_exceeded with Retry-After and details.resetAt); ' +
  'runs on the fair scheduler (503 overloaded + Retry-After when it cannot finish in time).';

/** Predictions and forecasts with the tenant's production model (or the global one as a fallback). */
export const predictRoutes: FastifyPluginAsyncTypebox<{ platform: Platform }> = async (app, { platform }) => {
  const { predictions } = platform.models;
  const jsonLimit = Math.min(PREDICT_JSON_MAX_BYTES, platform.config.maxJsonBodyBytes);
  const { maxUploadBytes } = platform.config;

  app.post(
    '/v1/models/:name/predict',
    {
      config: tenant('models.predict'),
      bodyLimit: jsonLimit,
      // Refused before a byte is parsed, with the way out in the message. Callback style: no promise per request.
      preParsing: (request, _reply, payload, done) => {
        const declared = Number(request.headers['content-length'] ?? 0);
        if (declared > jsonLimit && mediaType(request) === 'application/json') return done(tooLargeForJson(declared, jsonLimit));
        done(null, payload);
      },
      schema: {
        tags,
        params: ModelParams,
        body: {
          content: {
            'application/json': { schema: PredictBody },
            'text/csv': { schema: {} },
            'application/x-ndjson': { schema: {} },
          },
        },
        description: predictDescription,
        response: errorResponses(400, 404, 413, 415, 429, 503),
      },
    },
    async (request, reply) => {
      const caller = tenantOf(request);
      const type = mediaType(request);
      if (type === 'application/json') {
        const body = request.body as PredictRequest;
        // Most calls are answered at once; only those that must wait get a cancellation signal.
        const answer = predictions.predictNow(caller, request.params.name, body) ?? (await predictions.predict(caller, request.params.name, body, abortOnClose(reply)));
        // Returned, not sent: Fastify waits on a returned reply as on a promise, a cost the single-row path need not pay.
        reply.type(JSON_UTF8);
        return predictionsAnswer(answer.predictions, answer.model);
      }
      const rows = { format: streamedFormat(type), body: request.body as AsyncIterable<Buffer>, maxBytes: maxUploadBytes };
      const { json } = await predictions.predictStream(caller, request.params.name, rows, abortOnClose(reply));
      return reply.type(JSON_UTF8).send(Readable.from(json));
    },
  );

  app.post(
    '/v1/models/:name/forecast',
    {
      config: tenant('models.forecast'),
      schema: {
        tags,
        params: ModelParams,
        body: ForecastBody,
        description:
          'Recursive multi-step forecast of one series; without history, the series\' stored rows are used. Charged one prediction per step; runs on the fair scheduler.',
        response: errorResponses(400, 404, 429, 503),
      },
    },
    async (request, reply) => predictions.forecast(tenantOf(request), request.params.name, request.body, abortOnClose(reply)),
  );
};

function mediaType(request: FastifyRequest): string {
  return mediaTypeOf(request.headers['content-type']);
}

function tooLargeForJson(bytes: number, limit: number) {
  return errors.payloadTooLarge(
    `a JSON predict body of ${bytes} bytes exceeds the limit of ${limit} bytes; send large batches as text/csv or application/x-ndjson, which stream`,
  );
}

function streamedFormat(type: string): StreamedFormat {
  const format = streamedFormatOf(type);
  if (format) return format;
  throw errors.unsupportedMediaType(type || '(none)', ['application/json', 'text/csv', 'application/x-ndjson']);
}

/** Aborted when the client goes away before the answer is sent: queued slices are dropped. */
function abortOnClose(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(errors.validation('the client closed the request'));
  });
  return controller.signal;
}
