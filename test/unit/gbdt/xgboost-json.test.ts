/**
 * XGBoost JSON interop. Fixture-based checks always run; the round trip
 * through real XGBoost runs when Python with xgboost is installed (the
 * fixtures were made by scripts/xgboost-fixtures.py with XGBoost 1.7).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../../src/errors.js';
import {
  compilePredictor,
  createArrayPredictor,
  createJsPredictor,
  exportXgboostJson,
  type FeatureKind,
  type GbdtModel,
  importXgboostJson,
  type ObjectiveName,
  train,
} from '../../../src/gbdt/index.js';
import { makeFeatures, poisson, seeded } from './synthetic.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/xgboost/', import.meta.url));
const PYTHON = '/usr/bin/python3';

interface FixtureCase {
  name: string;
  model: string;
  numFeatures: number;
  featureKinds: FeatureKind[];
  rows: (number | null)[];
  predictions: number[];
  margins: number[];
}

const index = JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as { xgboostVersion: string; cases: FixtureCase[] };
const rowsOf = (c: { rows: (number | null)[] }): Float32Array => Float32Array.from(c.rows, (v) => v ?? Number.NaN);
const fixtureText = (c: FixtureCase): string => readFileSync(join(FIXTURES, c.model), 'utf8');

const xgboostAvailable = spawnSync(PYTHON, ['-c', 'import xgboost'], { stdio: 'ignore' }).status === 0;

/** Max |a - b| over two arrays, NaN-aware (NaN equals NaN). */
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number | null>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i] ?? Number.NaN;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    max = Math.max(max, Math.abs(x - y));
    if (Number.isNaN(x) !== Number.isNaN(y)) return Number.POSITIVE_INFINITY;
  }
  return max;
}

/** Runs real XGBoost on several (model file, rows) requests in one process. */
function xgboostPredict(requests: { model: string; featureKinds: FeatureKind[]; numFeatures: number; rows: Float32Array }[]) {
  const body = JSON.stringify({
    requests: requests.map((r) => ({ ...r, rows: Array.from(r.rows, (v) => (Number.isNaN(v) ? null : v)) })),
  });
  const res = spawnSync(PYTHON, [join(FIXTURES, 'predict.py')], { input: body, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(res.status, 0, `XGBoost failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as { version: string; results: { predictions: (number | null)[]; margins: (number | null)[] }[] };
}

describe('XGBoost JSON fixtures', () => {
  it('cover every objective, categorical splits, missing values and depth >= 6', () => {
    const objectives = new Set<ObjectiveName>();
    let categorical = false;
    let missing = false;
    let depth6 = false;
    for (const c of index.cases) {
      const m = importXgboostJson(fixtureText(c));
      objectives.add(m.objective.name);
      categorical ||= m.forest.catNodes.length > 0;
      missing ||= c.rows.includes(null) && m.forest.defaultLeft.includes(1);
      depth6 ||= c.name.includes('depth6');
    }
    assert.equal(objectives.size, 6);
    assert.ok(categorical && missing && depth6);
  });

  for (const c of index.cases) {
    it(`imports ${c.name} and predicts exactly what XGBoost ${index.xgboostVersion} predicted`, () => {
      const model = importXgboostJson(fixtureText(c));
      assert.equal(model.numFeatures, c.numFeatures);
      assert.deepEqual(model.featureKinds, c.featureKinds);
      const rows = rowsOf(c);
      for (const p of [createArrayPredictor(model), createJsPredictor(model)]) {
        assert.equal(maxAbsDiff(p.predictMarginBatch(rows), c.margins), 0, `${p.kind} margins`);
        assert.equal(maxAbsDiff(p.predictBatch(rows), c.predictions), 0, `${p.kind} predictions`);
      }
    });
  }

  it('handles the bare NaN tokens of categorical models', () => {
    const text = fixtureText(index.cases.find((c) => c.name === 'categorical-depth6')!);
    assert.ok(/[,[]NaN[,\]]/.test(text), 'XGBoost wrote NaN');
    assert.throws(() => JSON.parse(text), SyntaxError);
    assert.ok(importXgboostJson(text).forest.catNodes.length > 0);
    // NaN inside a string (a feature name) is left alone.
    const named = text.replace('"feature_names":[]', '"feature_names":["a,NaN,b","x","y","z","w"]');
    assert.equal(importXgboostJson(named).featureNames[0], 'a,NaN,b');
  });

  it('reads base_score in both the scalar and the newer array form', () => {
    const c = index.cases.find((x) => x.name === 'base-score-array')!;
    assert.ok(fixtureText(c).includes('"base_score":"[4.6E-1]"'));
    assert.equal(importXgboostJson(fixtureText(c)).baseScore, Math.fround(0.46));
    const scalar = fixtureText(c).replace('"[4.6E-1]"', '"4.6E-1"');
    assert.equal(importXgboostJson(scalar).baseScore, Math.fround(0.46));
  });

  it('reads best_iteration and keeps every tree, as XGBoost predicts with all of them', () => {
    const model = importXgboostJson(fixtureText(index.cases.find((x) => x.name === 'early-stopping')!));
    assert.ok(model.bestIteration !== undefined && model.forest.numTrees > model.bestIteration + 1);
  });

  it('rejects malformed models with a clear error', () => {
    const text = fixtureText(index.cases[0]!);
    const bad = (t: string, msg: RegExp) =>
      assert.throws(() => importXgboostJson(t), (e: unknown) => e instanceof AppError && e.code === 'validation_failed' && msg.test(e.message));
    bad('{"learner": 1', /not JSON/);
    bad(text.replace(/"num_trees":"\d+"/, '"num_trees":"999"'), /num_trees says 999/);
    bad(text.replace('"reg:squarederror"', '"multi:softprob"'), /objective 'multi:softprob' is not supported/);
    bad(text.replace(/"num_nodes":"(\d+)"/, '"num_nodes":"3"'), /num_nodes is 3/);
    bad(text.replace(/"left_children":\[(\d+)/, '"left_children":[100000'), /invalid children/);
  });
});

// Our own models: one per objective, plus categorical + missing + depth 6.
const synth = makeFeatures(600, 4, 41);
const rnd = seeded(42);
const X = Float32Array.from(synth.features, (v, i) => (i % 4 === 3 ? Math.floor(v * 12) : rnd() < 0.08 ? Number.NaN : v));
const KINDS: FeatureKind[] = ['numeric', 'numeric', 'numeric', 'categorical'];
const probe = Float32Array.from({ length: 200 * 4 }, (_, i) =>
  i % 4 === 3 ? [Number.NaN, -1, 0, 5, 11, 30][i % 6]! : rnd() < 0.1 ? Number.NaN : rnd(),
);

function ourModels(): { name: string; model: GbdtModel }[] {
  const labels = (objective: ObjectiveName) =>
    Float32Array.from(synth.signal, (s, i) => {
      const cat = X[i * 4 + 3]!;
      if (objective === 'binary:logistic') return s + (cat % 2) > 1.8 ? 1 : 0;
      if (objective === 'count:poisson' || objective === 'reg:tweedie') return poisson(rnd, Math.exp(0.4 * s + (cat % 3) * 0.2));
      return s + (cat % 3);
    });
  const objectives: ObjectiveName[] = ['reg:squarederror', 'reg:absoluteerror', 'reg:pseudohubererror', 'count:poisson', 'reg:tweedie', 'binary:logistic'];
  return objectives.map((objective) => ({
    name: objective,
    model: train({ features: X, labels: labels(objective), numFeatures: 4 }, { objective, numBoostRound: 12, maxDepth: 6 }, {
      featureKinds: KINDS,
      featureNames: ['price', 'promo', 'lag_7', 'store'],
    }).model,
  }));
}

describe('XGBoost JSON export', () => {
  const models = ourModels();
  const dir = mkdtempSync(join(tmpdir(), 'gbdt-xgb-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes valid JSON with string parameters and consistent tree counts', () => {
    for (const { model } of models) {
      const doc = JSON.parse(exportXgboostJson(model));
      const gb = doc.learner.gradient_booster.model;
      assert.equal(gb.gbtree_model_param.num_trees, String(model.forest.numTrees));
      assert.equal(gb.trees.length, model.forest.numTrees);
      assert.equal(gb.tree_info.length, model.forest.numTrees);
      assert.equal(typeof doc.learner.learner_model_param.base_score, 'string');
      for (const t of gb.trees) {
        assert.equal(t.tree_param.num_nodes, String(t.left_children.length));
        assert.equal(t.parents[0], 2147483647);
      }
      assert.deepEqual(doc.learner.feature_types, ['q', 'q', 'q', 'c']);
    }
  });

  it('round-trips through export and import without changing a prediction', () => {
    for (const { name, model } of models) {
      const back = importXgboostJson(exportXgboostJson(model));
      assert.equal(maxAbsDiff(compilePredictor(back).predictBatch(probe), compilePredictor(model).predictBatch(probe)), 0, name);
      assert.deepEqual(back.forest.categories, model.forest.categories);
    }
    for (const c of index.cases) {
      const model = importXgboostJson(fixtureText(c));
      const again = importXgboostJson(exportXgboostJson(model));
      assert.equal(maxAbsDiff(compilePredictor(again).predictMarginBatch(rowsOf(c)), c.margins), 0, c.name);
    }
  });

  it('real XGBoost loads our exports and predicts the same values', (t) => {
    if (!xgboostAvailable) {
      const note = `XGBoost is not installed (${PYTHON} -c 'import xgboost' failed): the live round trip did not run; fixture checks above still ran`;
      t.diagnostic(note);
      console.log(`# ${note}`);
      return;
    }
    const requests = [
      ...models.map(({ name, model }) => {
        const file = join(dir, `${name.replace(':', '-')}.json`);
        writeFileSync(file, exportXgboostJson(model));
        return { model: file, featureKinds: KINDS, numFeatures: 4, rows: probe, expected: compilePredictor(model) };
      }),
      ...index.cases.map((c) => {
        const file = join(dir, `fixture-${c.name}.json`);
        const model = importXgboostJson(fixtureText(c));
        writeFileSync(file, exportXgboostJson(model));
        return { model: file, featureKinds: c.featureKinds, numFeatures: c.numFeatures, rows: rowsOf(c), expected: compilePredictor(model) };
      }),
    ];
    const out = xgboostPredict(requests.map(({ expected: _, ...r }) => r));
    t.diagnostic(`round trip checked against XGBoost ${out.version} on ${requests.length} models`);
    requests.forEach((r, i) => {
      const got = out.results[i]!;
      assert.equal(maxAbsDiff(r.expected.predictMarginBatch(r.rows), got.margins), 0, `${r.model} margins`);
      assert.equal(maxAbsDiff(r.expected.predictBatch(r.rows), got.predictions), 0, `${r.model} predictions`);
    });
  });
});
