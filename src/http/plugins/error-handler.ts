import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, type ErrorCode, HTTP_STATUS } from '../../errors.js';

interface ValidationIssue {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** "body.limits.burst: must be >= 1" — the message names the field. */
function describeValidation(context: string | undefined, issues: ValidationIssue[]): string {
  return issues
    .slice(0, 5)
    .map((v) => {
      const path = [context ?? 'request', ...v.instancePath.split('/').filter(Boolean)].join('.');
      if (v.keyword === 'additionalProperties') return `${path}: unknown field '${String(v.params.additionalProperty)}'`;
      if (v.keyword === 'required') return `${path}: missing required field '${String(v.params.missingProperty)}'`;
      return `${path}: ${v.message ?? 'is invalid'}`;
    })
    .join('; ');
}

/** Fastify's own errors → our codes. */
function fromFastify(err: FastifyError, request: FastifyRequest): AppError | null {
  if (err.validation) return new AppError('validation_failed', describeValidation(err.validationContext, err.validation as ValidationIssue[]));
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'request body is larger than the limit for this route');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(
        'unsupported_media_type',
        `unsupported content type '${request.headers['content-type'] ?? '(none)'}'; this server reads application/json, text/csv, application/x-ndjson and multipart/form-data`,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('validation_failed', 'empty body: expected a JSON document');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('bad_request', 'Content-Length does not match the body');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('validation_failed', `body is not valid JSON: ${err.message}`);
  }
  if (err instanceof SyntaxError) return new AppError('validation_failed', `body is not valid JSON: ${err.message}`);
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = (Object.entries(HTTP_STATUS).find(([, s]) => s === status)?.[0] ?? 'bad_request') as ErrorCode;
    return new AppError(code, err.message);
  }
  return null;
}

export function renderError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const appError = err instanceof AppError ? err : fromFastify(err as FastifyError, request);
  if (!appError) {
    request.log.error({ err }, 'unhandled error');
  } else if (appError.status >= 500) {
    request.log.warn({ code: appError.code, msg: appError.message }, 'request failed');
  }
  const e = appError ?? new AppError('internal', 'internal error; the request id identifies it in the logs');
  if (e.retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(e.retryAfterSeconds))));
  reply.code(e.status);
  if (request.routeOptions.config?.errorFormat === 'oip') return reply.send({ error: e.message });
  return reply.send({
    error: { code: e.code, message: e.message, requestId: request.id, ...(e.details ? { details: e.details } : {}) },
  });
}

/** One handler for every error: typed errors keep their status, anything else is a logged 500. */
export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((err, request, reply) => renderError(err, request, reply));
    app.setNotFoundHandler((request, reply) =>
      renderError(new AppError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`), request, reply),
    );
  },
  { name: 'tenantml-errors' },
);
