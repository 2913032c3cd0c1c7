import { AppError, errors } from '../../errors.js';

/** Where an OpenAI-compatible server lives and how patiently to talk to it. */
export interface OpenAiEndpointConfig {
  /** Base URL including the version prefix, e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  apiKey?: string;
  /** Per-attempt timeout (default 30 s). */
  timeoutMs?: number;
  /** Retries after the first attempt on 408/429/5xx and network errors (default 4). */
  maxRetries?: number;
  /** First backoff delay; doubles each retry, with jitter (default 250 ms). */
  retryBaseMs?: number;
  /** Injected for tests; defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

const RETRYABLE = new Set([408, 409, 425, 429, 500, 502, 503, 504]);
const MAX_RETRY_AFTER_MS = 20_000;

/**
 * POSTs JSON to `${baseUrl}${path}` and returns the successful response (body
 * unread, so callers can stream it). Retries with exponential backoff, honouring
 * Retry-After; maps final failures to `AppError`s that name the server.
 */
export async function postJson(config: OpenAiEndpointConfig, path: string, body: unknown, what: string, signal?: AbortSignal): Promise<Response> {
  const doFetch = config.fetch ?? fetch;
  const url = `${config.baseUrl.replace(/\/+$/, '')}${path}`;
  const maxRetries = config.maxRetries ?? 4;
  const base = config.retryBaseMs ?? 250;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;
  const payload = JSON.stringify(body);

  for (let attempt = 0; ; attempt++) {
    const timeout = AbortSignal.timeout(config.timeoutMs ?? 30_000);
    let response: Response | undefined;
    let failure: string;
    try {
      response = await doFetch(url, { method: 'POST', headers, body: payload, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err) {
      if (signal?.aborted) throw err;
      failure = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    if (response?.ok) return response;
    let retryAfterMs: number | undefined;
    if (response) {
      const detail = await upstreamMessage(response);
      failure = `HTTP ${response.status}${detail ? ` (${detail})` : ''}`;
      if (!RETRYABLE.has(response.status)) {
        if ([400, 413, 422].includes(response.status)) throw errors.badRequest(`${what} rejected the request: ${failure}`);
        throw new AppError('unavailable', `${what} is misconfigured or refused us: ${failure}`, { retryAfterSeconds: 5 });
      }
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    }
    if (attempt >= maxRetries) {
      throw errors.unavailable(`${what} failed after ${attempt + 1} attempts: ${failure!}`);
    }
    const backoff = base * 2 ** attempt * (0.5 + Math.random());
    await sleep(Math.min(MAX_RETRY_AFTER_MS, Math.max(backoff, retryAfterMs ?? 0)), signal);
  }
}

async function upstreamMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string };
    const msg = typeof parsed.error === 'string' ? parsed.error : parsed.error?.message;
    if (typeof msg === 'string') return msg.slice(0, 300);
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 300);
}

/** Retry-After in milliseconds, from delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
