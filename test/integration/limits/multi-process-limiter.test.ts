import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { deleteKeys, randomKeyPrefix, SHARED_REDIS_URL } from './redis-test-support.js';

const here = dirname(fileURLToPath(import.meta.url));

interface HammerReport {
  allowed: number;
  denied: number;
  first: number;
  last: number;
}

async function runChild(env: Record<string, string>): Promise<HammerReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'hammer-child.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, `child failed: ${err}`);
  return JSON.parse(out.trim()) as HammerReport;
}

describe('Redis rate limiter across processes', () => {
  const prefix = randomKeyPrefix();

  after(async () => {
    const redis = new Redis(SHARED_REDIS_URL);
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it('three processes hammering one bucket are admitted burst + rate × time in total (±5%)', async () => {
    const rate = 200;
    const burst = 50;
    const env = {
      HAMMER_REDIS_URL: SHARED_REDIS_URL,
      HAMMER_PREFIX: prefix,
      HAMMER_TENANT: 'hammered',
      HAMMER_RATE: String(rate),
      HAMMER_BURST: String(burst),
      // Far enough ahead for three cold `tsx` starts on a busy two-core machine.
      HAMMER_START_AT: String(Date.now() + 4000),
      HAMMER_DURATION_MS: '3000',
    };
    const reports = await Promise.all([runChild(env), runChild(env), runChild(env)]);
    const admitted = reports.reduce((sum, r) => sum + r.allowed, 0);
    const denied = reports.reduce((sum, r) => sum + r.denied, 0);
    const spanMs = Math.max(...reports.map((r) => r.last)) - Math.min(...reports.map((r) => r.first));
    const expected = burst + (rate * spanMs) / 1000;
    assert.ok(reports.every((r) => r.allowed > 0), 'every process got a share');
    assert.ok(denied > admitted, `the bucket was really contended (${denied} refused)`);
    assert.ok(
      Math.abs(admitted - expected) <= expected * 0.05,
      `admitted ${admitted}, expected ${expected.toFixed(0)} over ${spanMs} ms`,
    );
  });
});
