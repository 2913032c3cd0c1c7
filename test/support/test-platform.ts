/**
 * Builds the whole platform and its HTTP app against a fresh test database, with
 * helpers to create tenants and call the API the way a client does.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { createPlatform, type Platform } from '../../src/platform.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, REDIS_URL, type TestDatabase, testMode } from './test-database.js';

export const TEST_ADMIN_KEY = 'tmladm_test-operator-key-0123456789';

export interface TestTenant {
  id: string;
  key: string;
}

export interface TestPlatform {
  platform: Platform;
  /** This platform's own data folder (artifacts), removed on close. */
  dataDir: string;
  app: FastifyInstance;
  database: TestDatabase;
  adminKey: string;
  createTenant(id?: string, extra?: Record<string, unknown>): Promise<TestTenant>;
  /** An injected request with `key` as the bearer token; a JSON `body` is sent as JSON. */
  call(key: string | null, method: InjectOptions['method'], url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startTestPlatform(env: Record<string, string> = {}): Promise<TestPlatform> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'tenantml-test-'));
  // In servers mode every test platform shares the Redis server under its own key prefix.
  const servers = testMode() === 'servers' ? { REDIS_URL, TENANTML_REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}:` } : {};
  const config = loadConfig({ TENANTML_ADMIN_KEY: TEST_ADMIN_KEY, TENANTML_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...servers, ...env });
  const platform = await createPlatform(config, { db: database.db });
  const app = await buildApp(platform, { logger: false });
  await app.ready();

  const call: TestPlatform['call'] = (key, method, url, body, headers = {}) => {
    const h: Record<string, string> = { ...headers };
    if (key) h.authorization = `Bearer ${key}`;
    let payload: InjectOptions['payload'];
    if (body !== undefined) {
      if (typeof body === 'string' || Buffer.isBuffer(body)) payload = body;
      else {
        payload = JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
    }
    return app.inject({ method, url, headers: h, ...(payload !== undefined ? { payload } : {}) });
  };

  return {
    platform,
    dataDir,
    app,
    database,
    adminKey: TEST_ADMIN_KEY,
    call,
    async createTenant(id, extra = {}) {
      const res = await call(TEST_ADMIN_KEY, 'POST', '/v1/admin/tenants', { ...(id ? { id } : {}), name: id ?? 'tenant', ...extra });
      if (res.statusCode !== 201) throw new Error(`creating tenant failed: ${res.statusCode} ${res.body}`);
      const json = res.json() as { tenant: { id: string }; apiKey: string };
      return { id: json.tenant.id, key: json.apiKey };
    },
    async close() {
      await app.close();
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
