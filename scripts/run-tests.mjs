#!/usr/bin/env node
// Runs the test suite: unit tests once, integration and end-to-end tests once per
// database mode ("embedded": PGlite + in-process state; "servers": PostgreSQL +
// Redis). Prints one closing line with the totals of all runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const only = args.includes('--db') ? args[args.indexOf('--db') + 1] : undefined;
const filter = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--db');

function findTests(dir) {
  let out = [];
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return filter ? out.filter((f) => f.includes(filter)) : out;
}

const tapDir = mkdtempSync(join(tmpdir(), 'tenantml-tests-'));
const totals = { pass: 0, fail: 0, skipped: 0, todo: 0 };

function run(label, files, env) {
  if (files.length === 0) return;
  console.log(`\n=== ${label}: ${files.length} files ===`);
  const tap = join(tapDir, `${label.replace(/\W+/g, '-')}.tap`);
  const res = spawnSync(process.execPath, [
    '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files,
  ], { stdio: 'inherit', env: { ...process.env, ...env } });
  let text = '';
  try { text = readFileSync(tap, 'utf8'); } catch { /* runner crashed before writing */ }
  const count = (k) => Number([...text.matchAll(new RegExp(`^# ${k} (\\d+)$`, 'gm'))].pop()?.[1] ?? 0);
  const pass = count('pass'), fail = count('fail');
  totals.pass += pass; totals.fail += fail; totals.skipped += count('skipped'); totals.todo += count('todo');
  if (res.status !== 0 && fail === 0) totals.fail += 1; // a crash counts as a failure
  console.log(`=== ${label}: ${pass} passed, ${fail} failed ===`);
}

const unit = findTests('test/unit');
const integration = findTests('test/integration').concat(findTests('test/e2e'));
if (!only) run('unit', unit, {});
if (!only || only === 'pglite') run('integration (embedded: PGlite)', integration, { TENANTML_TEST_MODE: 'embedded' });
if (!only || only === 'postgres') {
  run('integration (servers: PostgreSQL + Redis)', integration, {
    TENANTML_TEST_MODE: 'servers',
    TENANTML_TEST_DATABASE_URL: process.env.TENANTML_TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test',
    TENANTML_TEST_REDIS_URL: process.env.TENANTML_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  });
}
console.log(`\ntests: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(totals.fail > 0 || totals.skipped > 0 ? 1 : 0);
