/**
 * Triton export: the tenant's production models become a FIL-backend model
 * repository whose XGBoost JSON predicts what tenantml predicts; the
 * `tenantml export triton` command writes it (servers mode: the command
 * process shares the test's PostgreSQL database).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { compilePredictor, importXgboostJson, train } from '../../../src/gbdt/index.js';
import { exportTenantToTriton } from '../../../src/serving/triton-export.js';
import { publishModel, tinyModel } from '../../support/serving-models.js';
import { testMode } from '../../support/test-database.js';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../../support/test-platform.js';

const BIN = fileURLToPath(new URL('../../../bin/tenantml.mjs', import.meta.url));
let t: TestPlatform;
let tenant: TestTenant;
let out: string;

before(async () => {
  t = await startTestPlatform();
  tenant = await t.createTenant('triton-owner');
  await publishModel(t.platform, tenant.id, 'demand', tinyModel(12, 1));
  await publishModel(t.platform, tenant.id, 'demand', tinyModel(12, 2)); // not promoted
  const labels = Float32Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const features = Float32Array.from({ length: 600 }, (_, i) => (Math.floor(i / 3) % 3 === 0 ? 5 : 1) + (i % 3));
  const classifier = train({ features, labels, numFeatures: 3 }, { objective: 'binary:logistic', numBoostRound: 5 }, { featureNames: ['x0', 'x1', 'x2'] }).model;
  await publishModel(t.platform, tenant.id, 'churn', classifier);
  out = mkdtempSync(join(tmpdir(), 'tenantml-triton-'));
});
after(async () => {
  await t.close();
  rmSync(out, { recursive: true, force: true });
});

test('production models become <model>/config.pbtxt and <model>/1/xgboost.json for the FIL backend', async () => {
  const dir = join(out, 'api');
  const exported = await exportTenantToTriton(t.platform.models.registry, tenant.id, dir);
  assert.deepEqual(exported.map((m) => [m.name, m.version]), [['churn', 1], ['demand', 1]]);
  assert.deepEqual(readdirSync(dir).sort(), ['churn', 'demand']);
  const config = readFileSync(join(dir, 'demand', 'config.pbtxt'), 'utf8');
  assert.match(config, /^name: "demand"$/m);
  assert.match(config, /^backend: "fil"$/m);
  assert.match(config, /key: "model_type"\n\s+value: \{ string_value: "xgboost_json" \}/);
  assert.match(config, /name: "input__0"\n\s+data_type: TYPE_FP32\n\s+dims: \[ 3 \]/);
  assert.match(config, /name: "output__0"\n\s+data_type: TYPE_FP32\n\s+dims: \[ 1 \]/);
  assert.match(config, /key: "output_class"\n\s+value: \{ string_value: "false" \}/);
  const classifierConfig = readFileSync(join(dir, 'churn', 'config.pbtxt'), 'utf8');
  assert.match(classifierConfig, /key: "output_class"\n\s+value: \{ string_value: "true" \}/);
  assert.match(classifierConfig, /key: "predict_proba"/);

  // The exported JSON is the production version (1), and predicts what the predict route answers.
  const json = readFileSync(join(dir, 'demand', '1', 'xgboost.json'));
  const roundTrip = compilePredictor(importXgboostJson(json)).predictRow(Float32Array.from([3, 1, 4]));
  const served = await t.call(tenant.key, 'POST', '/v1/models/demand/predict', { instances: [[3, 1, 4]] });
  assert.equal(served.json().model.version, 1);
  assert.ok(Math.abs(served.json().predictions[0] - roundTrip) < 1e-5, `${served.json().predictions[0]} vs ${roundTrip}`);
});

test('the command refuses bad arguments with its usage', () => {
  const res = spawnSync(process.execPath, [BIN, 'export', 'triton', '--tenant', tenant.id], { encoding: 'utf8', env: { ...process.env, TENANTML_DATA_DIR: out } });
  assert.equal(res.status, 2);
  assert.match(res.stderr, /usage: tenantml export triton --tenant <id> --out <dir>/);
});

if (testMode() === 'servers') {
  test('tenantml export triton --tenant <id> --out <dir> writes the repository', () => {
    const dir = join(out, 'cli');
    const env = { ...process.env, DATABASE_URL: t.database.url!, TENANTML_ARTIFACT_DIR: join(t.dataDir, 'artifacts'), TENANTML_DATA_DIR: out, LOG_LEVEL: 'silent' };
    const res = spawnSync(process.execPath, [BIN, 'export', 'triton', '--tenant', tenant.id, '--out', dir], { encoding: 'utf8', env });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /2 model\(s\) written/);
    assert.ok(readFileSync(join(dir, 'churn', '1', 'xgboost.json'), 'utf8').startsWith('{'));
    const missing = spawnSync(process.execPath, [BIN, 'export', 'triton', '--tenant', 'nobody-here', '--out', dir], { encoding: 'utf8', env });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /not found/);
  });
}
