/**
 * A minimal S3-compatible server for tests: path-style PUT/GET/HEAD/DELETE of
 * objects, bucket creation, ListObjectsV2 with prefix and continuation, and
 * DeleteObjects, good enough for `@aws-sdk/client-s3`. Objects live in memory
 * and are replaced whole once their body has arrived (like S3). Signatures are
 * not verified. Listens on a random loopback port.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: Date;
  metadata: Record<string, string>;
  contentType: string;
}

export interface TestS3Server {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Number of objects currently held in `bucket`. */
  objectCount(): number;
  stop(): Promise<void>;
}

const xmlEscape = (text: string) =>
  text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
const xmlUnescape = (text: string) =>
  text.replace(/&(lt|gt|amp|apos|quot);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' })[e] ?? '');

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const encoding = String(req.headers['content-encoding'] ?? '');
  const sha = String(req.headers['x-amz-content-sha256'] ?? '');
  return encoding.includes('aws-chunked') || sha.startsWith('STREAMING-') ? decodeAwsChunked(raw) : raw;
}

/** Decodes `aws-chunked` bodies: `<hex size>[;ext]\r\n<data>\r\n` ... `0\r\n<trailers>`. */
function decodeAwsChunked(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < raw.length) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = Number.parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0] ?? '0', 16);
    if (!size) break;
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function sendXml(res: ServerResponse, status: number, body: string): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, req: IncomingMessage, status: number, code: string, message: string): void {
  if (req.method === 'HEAD') {
    res.writeHead(status);
    res.end();
    return;
  }
  sendXml(res, status, `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`);
}

function objectHeaders(object: StoredObject): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    'content-length': object.body.length,
    'content-type': object.contentType,
    etag: object.etag,
    'last-modified': object.lastModified.toUTCString(),
  };
  for (const [k, v] of Object.entries(object.metadata)) headers[`x-amz-meta-${k}`] = v;
  return headers;
}

/** Starts a server holding the bucket `bucket`; `stop()` closes it and drops every connection. */
export async function startTestS3Server(bucket = 'tenantml-test'): Promise<TestS3Server> {
  const buckets = new Map<string, Map<string, StoredObject>>([[bucket, new Map()]]);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, bucketName = '', ...rest] = url.pathname.split('/');
    const key = rest.map((s) => decodeURIComponent(s)).join('/');
    const method = req.method ?? 'GET';
    if (bucketName === '') return sendError(res, req, 400, 'InvalidRequest', 'path-style bucket required');
    if (method === 'PUT' && key === '') {
      buckets.set(bucketName, buckets.get(bucketName) ?? new Map());
      res.writeHead(200).end();
      return;
    }
    const objects = buckets.get(bucketName);
    if (objects === undefined) return sendError(res, req, 404, 'NoSuchBucket', `bucket ${bucketName} does not exist`);

    if (key === '') {
      if (method === 'GET' && url.searchParams.get('list-type') === '2') return listObjects(url, bucketName, objects, res);
      if (method === 'POST' && url.searchParams.has('delete')) {
        const body = (await readBody(req)).toString('utf8');
        const keys = [...body.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) => xmlUnescape(m[1] ?? ''));
        for (const k of keys) objects.delete(k);
        const deleted = keys.map((k) => `<Deleted><Key>${xmlEscape(k)}</Key></Deleted>`).join('');
        return sendXml(res, 200, `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${deleted}</DeleteResult>`);
      }
      return sendError(res, req, 501, 'NotImplemented', `${method} on a bucket is not implemented`);
    }

    switch (method) {
      case 'PUT': {
        const body = await readBody(req);
        const metadata: Record<string, string> = {};
        for (const [h, v] of Object.entries(req.headers)) {
          if (h.startsWith('x-amz-meta-') && typeof v === 'string') metadata[h.slice(11)] = v;
        }
        const etag = `"${createHash('md5').update(body).digest('hex')}"`;
        const contentType = String(req.headers['content-type'] ?? 'application/octet-stream');
        objects.set(key, { body, etag, lastModified: new Date(), metadata, contentType });
        res.writeHead(200, { etag }).end();
        return;
      }
      case 'GET':
      case 'HEAD': {
        const object = objects.get(key);
        if (object === undefined) return sendError(res, req, 404, 'NoSuchKey', 'The specified key does not exist.');
        res.writeHead(200, objectHeaders(object));
        res.end(method === 'GET' ? object.body : undefined);
        return;
      }
      case 'DELETE':
        objects.delete(key);
        res.writeHead(204).end();
        return;
      default:
        return sendError(res, req, 405, 'MethodNotAllowed', method);
    }
  }

  function listObjects(url: URL, name: string, objects: Map<string, StoredObject>, res: ServerResponse): void {
    const prefix = url.searchParams.get('prefix') ?? '';
    const maxKeys = Math.min(Number(url.searchParams.get('max-keys') ?? 1000), 1000);
    const token = url.searchParams.get('continuation-token');
    const after = token ? Buffer.from(token, 'base64url').toString('utf8') : (url.searchParams.get('start-after') ?? '');
    const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const page = keys.slice(0, maxKeys);
    const truncated = keys.length > page.length;
    const contents = page
      .map((k) => {
        const o = objects.get(k) as StoredObject;
        return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join('');
    const next = truncated ? `<NextContinuationToken>${Buffer.from(page.at(-1) ?? '').toString('base64url')}</NextContinuationToken>` : '';
    const echoed = token ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '';
    sendXml(
      res,
      200,
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(name)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${echoed}${next}${contents}</ListBucketResult>`,
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => sendError(res, req, 500, 'InternalError', String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: 'test',
    secretAccessKey: 'test',
    objectCount: () => buckets.get(bucket)?.size ?? 0,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
