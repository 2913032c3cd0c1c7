/**
 * Two real server processes on one PostgreSQL database and one Redis: a key
 * revoked, a tenant suspended or purged through one replica stops working on
 * the other within a second, although the other had the key in its auth cache.
 * (Replicas share state only through the servers, so this runs in servers mode.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createServerDatabase, REDIS_URL, testMode } from '../support/test-database.js';
import { type ServerProcess, startServerProcess } from '../support/server-process.js';

const ADMIN = 'tmladm_multi-replica-operator-key';

async function call(server: ServerProcess, key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.text().then((t) => (t ? JSON.parse(t) : null))) as Record<string, unknown> };
}

/** Polls until `check` holds; returns how long it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (await check()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`not within ${ms} ms`);
}

if (testMode() === 'servers') {
  describe('two replicas', () => {
    let one: ServerProcess;
    let two: ServerProcess;
    let drop: () => Promise<void>;

    before(async () => {
      const db = await createServerDatabase();
      drop = db.drop;
      const env = { DATABASE_URL: db.url, REDIS_URL, TENANTML_REDIS_PREFIX: `mr-${randomBytes(4).toString('hex')}:`, TENANTML_ADMIN_KEY: ADMIN, TENANTML_AUTH_CACHE_TTL_MS: '600000' };
      one = await startServerProcess(env);
      two = await startServerProcess(env);
    });
    after(async () => {
      await one.stop();
      await two.stop();
      await drop();
    });

    test('revoke, suspend and purge through one replica reach the other within 1 s', async () => {
      const created = await call(one, ADMIN, 'POST', '/v1/admin/tenants', { id: 'replicated', name: 'R' });
      assert.equal(created.status, 201);
      const key = created.json.apiKey as string;
      const extra = await call(one, ADMIN, 'POST', '/v1/admin/tenants/replicated/keys', {});
      const extraKey = extra.json.apiKey as string;
      // Warm replica two's auth cache with both keys.
      assert.equal((await call(two, key, 'GET', '/v1/datasets')).status, 200);
      assert.equal((await call(two, extraKey, 'GET', '/v1/datasets')).status, 200);

      await call(one, ADMIN, 'DELETE', `/v1/admin/tenants/replicated/keys/${extra.json.keyId as string}`);
      const revokedMs = await within(1000, async () => (await call(two, extraKey, 'GET', '/v1/datasets')).status === 401);

      await call(one, ADMIN, 'PATCH', '/v1/admin/tenants/replicated', { status: 'suspended' });
      const suspendedMs = await within(1000, async () => (await call(two, key, 'GET', '/v1/datasets')).status === 403);
      await call(one, ADMIN, 'PATCH', '/v1/admin/tenants/replicated', { status: 'active' });
      await within(1000, async () => (await call(two, key, 'GET', '/v1/datasets')).status === 200);

      await call(one, ADMIN, 'DELETE', '/v1/admin/tenants/replicated');
      const purgedMs = await within(1000, async () => (await call(two, key, 'GET', '/v1/datasets')).status === 401);
      process.stderr.write(`cross-replica auth: revoke ${revokedMs.toFixed(0)} ms, suspend ${suspendedMs.toFixed(0)} ms, purge ${purgedMs.toFixed(0)} ms\n`);
    });
  });
}
