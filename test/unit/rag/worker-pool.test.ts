import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isAppError } from '../../../src/errors.js';
import { loadVectorIndex } from '../../../src/rag/index/create-vector-index.js';
import { createRagWorkerPool } from '../../../src/rag/worker/rag-worker-pool.js';
import { makeImageOnlyPdf, makeTextPdf } from '../../fixtures/rag/make-pdfs.js';

describe('RAG worker pool', () => {
  const pool = createRagWorkerPool({ maxThreads: 1 });
  after(() => pool.close());

  it('parses a PDF in a worker thread, keeping page numbers', async () => {
    const bytes = await makeTextPdf([{ lines: ['first page'] }, { lines: ['second page'] }]);
    const doc = await pool.parse({ bytes, format: 'pdf' });
    assert.deepEqual(doc.pages.map((p) => [p.page, p.blocks[0]?.text]), [[1, 'first page'], [2, 'second page']]);
    assert.equal(bytes.length > 0, true, 'the caller keeps its bytes');
  });

  it('re-throws worker failures as AppErrors with their code', async () => {
    await assert.rejects(pool.parse({ bytes: await makeImageOnlyPdf(), format: 'pdf' }), (e: unknown) => isAppError(e) && e.code === 'validation_failed' && /no text layer/.test(e.message));
  });

  it('builds an HNSW index off the event loop', async () => {
    const dimension = 8;
    const ids = Float64Array.from({ length: 200 }, (_, i) => i);
    const vectors = new Float32Array(200 * dimension);
    for (let i = 0; i < 200; i++) vectors[i * dimension + (i % dimension)] = 1;
    const bytes = await pool.buildIndex({ dimension, generation: 3, ids, vectors, kind: 'hnsw' });
    const index = loadVectorIndex(bytes);
    assert.deepEqual([index.kind, index.size, index.generation], ['hnsw', 200, 3]);
    const q = new Float32Array(dimension);
    q[2] = 1;
    assert.ok(index.search(q, 5).every((h) => h.id % dimension === 2));
  });
});
