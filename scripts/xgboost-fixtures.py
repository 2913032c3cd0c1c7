#!/usr/bin/env python3
"""Regenerates test/fixtures/xgboost: small models trained by XGBoost 1.7
(Debian's python3-xgboost), the rows to predict and XGBoost's own predictions.

Run: /usr/bin/python3 scripts/xgboost-fixtures.py
Every file is deterministic given the XGBoost version.
"""
import json
import os
import sys

import numpy as np
import xgboost as xgb

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'xgboost')


def f32list(a):
    """Float32 values as JSON numbers (null for NaN); repr of the float32-as-double is exact."""
    return [None if np.isnan(v) else float(np.float32(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def dmatrix(X, kinds, label=None):
    if 'categorical' in kinds:
        types = ['c' if k == 'categorical' else 'q' for k in kinds]
        return xgb.DMatrix(X, label=label, feature_types=types, enable_categorical=True)
    return xgb.DMatrix(X, label=label)


def numeric_data(rng, n, missing=0.0):
    """Six features: three continuous, three on an integer grid (so test rows hit thresholds exactly)."""
    X = np.empty((n, 6), dtype=np.float32)
    X[:, 0:3] = rng.normal(size=(n, 3))
    X[:, 3:6] = rng.integers(0, 10, size=(n, 3))
    if missing > 0:
        X[rng.random(size=X.shape) < missing] = np.nan
    return X


def signal(X):
    x = np.nan_to_num(X, nan=0.0)
    return 1.5 * np.sin(x[:, 0]) + 0.8 * x[:, 1] + 0.3 * x[:, 3] + (x[:, 4] > 4) * 1.2 - 0.1 * x[:, 5]


def save_case(cases, name, booster, kinds, X_test, note):
    path = os.path.join(OUT, f'{name}.json')
    booster.save_model(path)
    d = dmatrix(X_test, kinds)
    cases.append({
        'name': name,
        'note': note,
        'model': f'{name}.json',
        'numFeatures': int(X_test.shape[1]),
        'featureKinds': kinds,
        'rows': f32list(X_test),
        'predictions': f32list(booster.predict(d)),
        'margins': f32list(booster.predict(d, output_margin=True)),
    })


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240607)
    cases = []
    num = ['numeric'] * 6
    base = {'tree_method': 'hist', 'seed': 0, 'nthread': 1}

    # Squared error, missing values, depth 6.
    X = numeric_data(rng, 600, missing=0.15)
    y = signal(X) + rng.normal(scale=0.3, size=len(X))
    Xt = numeric_data(rng, 120, missing=0.15)
    b = xgb.train({**base, 'objective': 'reg:squarederror', 'max_depth': 6, 'eta': 0.3}, dmatrix(X, num, y), 4)
    save_case(cases, 'squarederror-missing-depth6', b, num, Xt, 'NaN in training and test rows, depth 6')

    X = numeric_data(rng, 300)
    Xt = numeric_data(rng, 100, missing=0.05)
    y = signal(X) + rng.laplace(scale=0.5, size=len(X))
    b = xgb.train({**base, 'objective': 'reg:absoluteerror', 'max_depth': 4}, dmatrix(X, num, y), 5)
    save_case(cases, 'absoluteerror', b, num, Xt, 'adaptive leaves, base_score from the median')

    b = xgb.train({**base, 'objective': 'reg:pseudohubererror', 'max_depth': 4, 'huber_slope': 2.0}, dmatrix(X, num, y), 5)
    save_case(cases, 'pseudohubererror', b, num, Xt, 'huber_slope 2')

    counts = rng.poisson(np.exp(0.4 * np.clip(signal(X), -3, 3))).astype(np.float32)
    b = xgb.train({**base, 'objective': 'count:poisson', 'max_depth': 4}, dmatrix(X, num, counts), 6)
    save_case(cases, 'poisson', b, num, Xt, 'log link, max_delta_step 0.7')

    b = xgb.train({**base, 'objective': 'reg:tweedie', 'tweedie_variance_power': 1.3, 'max_depth': 4}, dmatrix(X, num, counts), 6)
    save_case(cases, 'tweedie', b, num, Xt, 'log link, variance power 1.3')

    yb = (signal(X) + rng.normal(size=len(X)) > 1.5).astype(np.float32)
    b = xgb.train({**base, 'objective': 'binary:logistic', 'max_depth': 4}, dmatrix(X, num, yb), 6)
    save_case(cases, 'logistic', b, num, Xt, 'sigmoid link')

    # Categorical: a 20-level "tenant" (partition splits), a 3-level one-hot feature, numeric rest.
    kinds = ['categorical', 'categorical', 'numeric', 'numeric', 'numeric']
    n = 800
    Xc = np.empty((n, 5), dtype=np.float32)
    Xc[:, 0] = rng.integers(0, 20, size=n)
    Xc[:, 1] = rng.integers(0, 3, size=n)
    Xc[:, 2:5] = rng.normal(size=(n, 3))
    Xc[rng.random(size=Xc.shape) < 0.05] = np.nan
    tenant_effect = rng.normal(scale=2.0, size=20)
    yc = (np.nan_to_num(tenant_effect[np.nan_to_num(Xc[:, 0], nan=0).astype(int)]) + (Xc[:, 1] == 2) * 1.5
          + np.nan_to_num(Xc[:, 2]) + rng.normal(scale=0.3, size=n))
    Xct = np.empty((120, 5), dtype=np.float32)
    Xct[:, 0] = rng.integers(-2, 24, size=120)  # includes unseen and negative categories
    Xct[:, 1] = rng.integers(0, 4, size=120)
    Xct[:, 2:5] = rng.normal(size=(120, 3))
    Xct[::7, 0] = np.nan
    Xct[::11, 1] = np.nan
    Xct[5, 0] = 3.7  # non-integer category code: truncated
    b = xgb.train({**base, 'objective': 'reg:squarederror', 'max_depth': 6, 'max_cat_to_onehot': 4}, dmatrix(Xc, kinds, yc), 4)
    save_case(cases, 'categorical-depth6', b, kinds, Xct, 'partition and one-hot categorical splits, unseen/negative/missing categories')

    # Early stopping: attributes carry best_iteration; all trees stay in the file.
    Xv = numeric_data(rng, 200)
    yv = signal(Xv) + rng.normal(scale=0.3, size=len(Xv))
    y = signal(X) + rng.normal(scale=0.3, size=len(X))
    b = xgb.train({**base, 'objective': 'reg:squarederror', 'max_depth': 3, 'eta': 0.5}, dmatrix(X, num, y), 40,
                  evals=[(dmatrix(Xv, num, yv), 'valid')], early_stopping_rounds=3, verbose_eval=False)
    save_case(cases, 'early-stopping', b, num, Xt, 'best_iteration attribute')

    # base_score in the newer array form: 1.7 cannot read it, so expected values come from the scalar form.
    b = xgb.train({**base, 'objective': 'reg:squarederror', 'max_depth': 3, 'base_score': 0.46}, dmatrix(X, num, y), 3)
    save_case(cases, 'base-score-array', b, num, Xt, 'base_score written as "[4.6E-1]"')
    path = os.path.join(OUT, 'base-score-array.json')
    text = open(path).read()
    assert '"base_score":"4.6E-1"' in text, 'unexpected base_score spelling'
    open(path, 'w').write(text.replace('"base_score":"4.6E-1"', '"base_score":"[4.6E-1]"'))

    with open(os.path.join(OUT, 'cases.json'), 'w') as fh:
        json.dump({'xgboostVersion': xgb.__version__, 'cases': cases}, fh, separators=(',', ':'))
        fh.write('\n')
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f'wrote {len(cases)} cases, {total} bytes', file=sys.stderr)


if __name__ == '__main__':
    main()
