/**
 * The vector index is a cache of Postgres: a deleted or corrupted index file
 * is rebuilt from the stored embeddings on the next query with the same
 * results; an exact index that grows past the threshold becomes HNSW; other
 * replicas' writes and purges evict it; a purge deletes files and memory.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../../src/config.js';
import type { Db } from '../../../src/db/db.js';
import { buildApp } from '../../../src/http/app.js';
import { createPlatform, type Platform } from '../../../src/platform.js';
import { readIndexHeader } from '../../../src/rag/index/index-format.js';
import { LexicalIndex } from '../../../src/rag/search/lexical-index.js';
import { indexArtifactKey, lexicalArtifactKey } from '../../../src/rag/service/namespace-indexes.js';
import { scanAllTablesFor } from '../../support/scan-tenant.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';
import { TEST_ADMIN_KEY } from '../../support/test-platform.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { COMMON_QUERIES, markdownWithCanary } from './rag-test-support.js';

const HNSW_THRESHOLD = 60;
let database: TestDatabase;
let platform: Platform;
let app: FastifyInstance;
let dataDir: string;
let key: string;
let tenantId: string;

const call = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, auth = key) =>
  app.inject({ method, url, headers: { authorization: `Bearer ${auth}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { payload: JSON.stringify(body) } : {}) });

async function namespaceId(name: string): Promise<{ id: string; generation: number }> {
  const res = await platform.db.withTenant(tenantId, (tx) => tx.query<{ id: string; generation: number }>('select id, generation from rag_namespaces where name = $1', [name]));
  return { id: res.rows[0]!.id, generation: Number(res.rows[0]!.generation) };
}

async function allResults(ns: string): Promise<string> {
  const out: unknown[] = [];
  for (const query of COMMON_QUERIES) {
    for (const mode of ['vector', 'hybrid']) out.push((await call('POST', `/v1/namespaces/${ns}/query`, { query, topK: 10, mode })).json().results);
  }
  return JSON.stringify(out);
}

async function nsDimension(name: string): Promise<number> {
  const res = await platform.db.withTenant(tenantId, (tx) => tx.query<{ dimension: number }>('select dimension from rag_namespaces where name = $1', [name]));
  return Number(res.rows[0]!.dimension);
}

const metric = async (name: string) => (await platform.metrics.getSingleMetric(name)?.get())?.values.reduce((n, v) => n + v.value, 0) ?? 0;

before(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'tenantml-index-'));
  const config = loadConfig({ TENANTML_ADMIN_KEY: TEST_ADMIN_KEY, TENANTML_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  // The platform must not close the test database: `drop()` does (and removes it in servers mode).
  const d = database.db;
  const shared: Db = { kind: d.kind, withTenant: (t, fn) => d.withTenant(t, fn), withSystem: (fn) => d.withSystem(fn), ping: () => d.ping(), maintain: () => d.maintain(), close: async () => {} };
  platform = await createPlatform(config, { db: shared, rag: { hnswThreshold: HNSW_THRESHOLD, writeBackDelayMs: 10 } });
  app = await buildApp(platform, { logger: false });
  const created = await app.inject({ method: 'POST', url: '/v1/admin/tenants', headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, payload: { id: 'faults', name: 'faults', limits: { requestsPerSecond: 100000, burst: 100000 } } });
  key = created.json().apiKey;
  tenantId = 'faults';
  for (const [ns, docs] of [['small', 3], ['large', 30]] as const) {
    assert.equal((await call('POST', '/v1/namespaces', { name: ns })).statusCode, 201);
    for (let d = 0; d < docs; d++) {
      const res = await call('POST', `/v1/namespaces/${ns}/documents`, { id: `d${d}`, format: 'markdown', text: markdownWithCanary(`code-${ns}-${d}`, 3) });
      assert.equal(res.statusCode, 201, res.body);
    }
  }
  await platform.rag.indexes.flush();
});
after(async () => {
  await app.close();
  await platform.close();
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('index files are rebuilt from Postgres', () => {
  for (const ns of ['small', 'large']) {
    test(`${ns}: persisted at the namespace generation, with the expected kind`, async () => {
      const { id, generation } = await namespaceId(ns);
      const bytes = await platform.artifacts.get(indexArtifactKey(tenantId, id, generation));
      assert.ok(bytes, 'index file exists');
      const header = readIndexHeader(bytes);
      assert.equal(header.generation, generation);
      assert.equal(header.kind, ns === 'large' ? 'hnsw' : 'exact');
      assert.equal(header.count, ns === 'large' ? 90 : 9);
      const raw = readFileSync(join(dataDir, 'artifacts', indexArtifactKey(tenantId, id, generation)));
      assert.equal(raw[4], 2, 'index files are sealed with a CRC-32 envelope (format 2): caches of Postgres need only catch damage');
      assert.deepEqual(
        (await platform.artifacts.list(`tenants/${tenantId}/indexes/${id}/`)).sort(),
        [indexArtifactKey(tenantId, id, generation), lexicalArtifactKey(tenantId, id, generation)].sort(),
        'older generations are deleted; the lexical index sits next to the vector index',
      );
      const lexical = LexicalIndex.load((await platform.artifacts.get(lexicalArtifactKey(tenantId, id, generation)))!);
      assert.equal(lexical.generation, generation);
      assert.equal(lexical.size, header.count);
    });

    test(`${ns}: a deleted index file is rebuilt on the next query with the same results`, async () => {
      const expected = await allResults(ns);
      const { id, generation } = await namespaceId(ns);
      platform.rag.indexes.clearMemory();
      assert.equal(await platform.artifacts.delete(indexArtifactKey(tenantId, id, generation)), true);
      const rebuildsBefore = await metric('tenantml_rag_index_loads_total');
      assert.equal(await allResults(ns), expected);
      assert.ok((await metric('tenantml_rag_index_loads_total')) > rebuildsBefore);
      await platform.rag.indexes.flush();
      assert.ok(await platform.artifacts.exists(indexArtifactKey(tenantId, id, generation)), 'the rebuilt index is persisted again');
    });

    test(`${ns}: a corrupted index file is detected, rebuilt and gives the same results`, async () => {
      const expected = await allResults(ns);
      const { id, generation } = await namespaceId(ns);
      const file = join(dataDir, 'artifacts', indexArtifactKey(tenantId, id, generation));
      for (const damage of ['flip', 'sealed-garbage'] as const) {
        platform.rag.indexes.clearMemory();
        if (damage === 'flip') {
          const bytes = readFileSync(file);
          bytes[bytes.length - 5]! ^= 0xff;
          writeFileSync(file, bytes);
        } else {
          // A valid envelope around bytes that are not an index: the index's own checks must catch it.
          const good = (await platform.artifacts.get(indexArtifactKey(tenantId, id, generation)))!;
          const bad = Buffer.from(good);
          bad[60]! ^= 0xff;
          await platform.artifacts.put(indexArtifactKey(tenantId, id, generation), bad);
        }
        const corruptBefore = await metric('tenantml_rag_index_corrupt_total');
        assert.equal(await allResults(ns), expected, damage);
        assert.equal(await metric('tenantml_rag_index_corrupt_total'), corruptBefore + 1, damage);
        await platform.rag.indexes.flush();
      }
    });
  }
});

describe('memory of dropped indexes', () => {
  test('an evicted index lends its memory to the next load only once no search holds it, and results stay the same', async () => {
    const expected = await allResults('small');
    const ns = await namespaceId('small');
    const indexes = platform.rag.indexes;
    indexes.clearMemory();
    const held = await indexes.acquireSet(tenantId, { ...ns, dimension: await nsDimension('small') });
    const start = indexes.bufferPoolStats();
    const snapshot = held.vector.serialize();
    indexes.evictTenant(tenantId);
    // Still leased: its read buffers (vectors and lexical) must not be pooled yet.
    assert.equal(indexes.bufferPoolStats().buffers, start.buffers);
    held.release();
    held.release(); // idempotent
    assert.equal(indexes.bufferPoolStats().buffers, start.buffers + 2);
    assert.deepEqual(held.vector.serialize(), snapshot);
    // The next load takes both buffers back and answers as before.
    assert.equal(await allResults('small'), expected);
    const end = indexes.bufferPoolStats();
    assert.equal(end.reused - start.reused, 2);
    assert.equal(end.buffers, start.buffers);
  });
});

describe('index updates and invalidation', () => {
  test('an exact index that grows past the threshold is rebuilt as HNSW in the background', async () => {
    assert.equal((await call('POST', '/v1/namespaces', { name: 'growing' })).statusCode, 201);
    for (let d = 0; d < 25; d++) await call('POST', '/v1/namespaces/growing/documents', { id: `g${d}`, format: 'markdown', text: markdownWithCanary(`grow-${d}`, 3) });
    await platform.rag.indexes.flush();
    const { id, generation } = await namespaceId('growing');
    const header = readIndexHeader((await platform.artifacts.get(indexArtifactKey(tenantId, id, generation)))!);
    assert.equal(header.kind, 'hnsw');
    assert.equal(header.count, 75);
    const res = await call('POST', '/v1/namespaces/growing/query', { query: 'grow-24 reference code', topK: 3, mode: 'hybrid' });
    assert.equal(res.json().results[0].documentId, 'g24');
  });

  test("another replica's write or the tenant's purge evicts the resident index", async () => {
    const { id, generation } = await namespaceId('small');
    await call('POST', '/v1/namespaces/small/query', { query: 'x', topK: 1 });
    assert.ok(platform.rag.indexes.isResident(tenantId, id));
    await platform.bus.publish({ type: 'index-changed', tenantId, namespace: id, generation });
    assert.ok(platform.rag.indexes.isResident(tenantId, id), 'an event for the generation it has keeps it');
    await platform.bus.publish({ type: 'index-changed', tenantId, namespace: id, generation: generation + 1 });
    assert.ok(!platform.rag.indexes.isResident(tenantId, id), 'a newer generation elsewhere evicts it');
    await call('POST', '/v1/namespaces/small/query', { query: 'x', topK: 1 });
    await platform.bus.publish({ type: 'tenant-purged', tenantId });
    assert.ok(!platform.rag.indexes.isResident(tenantId, id));
  });

  test('purging the tenant deletes namespaces, chunks, index files and resident indexes', async () => {
    await call('POST', '/v1/namespaces/small/query', { query: 'x', topK: 1 });
    const { id } = await namespaceId('small');
    const res = await app.inject({ method: 'DELETE', url: `/v1/admin/tenants/${tenantId}`, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    assert.equal(res.statusCode, 200, res.body);
    const deleted = res.json().deleted;
    assert.ok(deleted.rag_index_files >= 3, JSON.stringify(deleted));
    assert.ok(deleted.rag_chunks > 100 && deleted.rag_documents > 50 && deleted.rag_namespaces === 3, JSON.stringify(deleted));
    assert.ok(!platform.rag.indexes.isResident(tenantId, id));
    assert.deepEqual(await platform.artifacts.list(`tenants/${tenantId}/`), []);
    assert.deepEqual(await scanAllTablesFor(platform.db, tenantId), {});
  });
});
