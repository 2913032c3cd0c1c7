#!/usr/bin/env python3
"""XGBoost baseline for bench/gbdt.ts: trains one model per tenant on the same
data (float32 files written by the benchmark) and times itself.

argv: <data dir> <params json>; prints one JSON object on stdout.
"""
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb

data_dir, params_json = sys.argv[1], sys.argv[2]
cfg = json.loads(params_json)
T, n_train, n_hold, nf = cfg['tenants'], cfg['trainRows'], cfg['holdoutRows'], cfg['numFeatures']
rounds = cfg['numBoostRound']
params = {k: v for k, v in cfg['xgboost'].items()}


def load(name, shape):
    return np.fromfile(os.path.join(data_dir, name), dtype=np.float32).reshape(shape)


Xtr = load('train_x.f32', (T, n_train, nf))
ytr = load('train_y.f32', (T, n_train))
Xho = load('holdout_x.f32', (T, n_hold, nf))
yho = load('holdout_y.f32', (T, n_hold))

boosters = []
t0 = time.perf_counter()
for t in range(T):
    d = xgb.DMatrix(Xtr[t], label=ytr[t], nthread=params['nthread'])
    boosters.append(xgb.train(params, d, rounds))
train_seconds = time.perf_counter() - t0

sq = 0.0
for t in range(T):
    p = boosters[t].inplace_predict(Xho[t])
    sq += float(np.sum((p.astype(np.float64) - yho[t]) ** 2))
rmse = (sq / (T * n_hold)) ** 0.5

# Single-row latency on tenant 0's model, as a server would call it.
b0 = boosters[0]
rows = Xho[0]
for i in range(200):
    b0.inplace_predict(rows[i % n_hold:i % n_hold + 1])
lat = []
for i in range(3000):
    r = rows[i % n_hold:i % n_hold + 1]
    s = time.perf_counter_ns()
    b0.inplace_predict(r)
    lat.append(time.perf_counter_ns() - s)
lat.sort()

# Batch throughput: every holdout row of every tenant through one model.
big = np.ascontiguousarray(Xho.reshape(-1, nf))
reps = cfg.get('batchRepeats', 3)


def batch_rate(nthread):
    b0.set_param({'nthread': nthread})
    b0.inplace_predict(big)
    best = float('inf')
    for _ in range(reps):
        s = time.perf_counter()
        b0.inplace_predict(big)
        best = min(best, time.perf_counter() - s)
    return len(big) / best


rate2 = batch_rate(params['nthread'])
rate1 = batch_rate(1)

json.dump({
    'version': xgb.__version__,
    'trainSeconds': train_seconds,
    'trainMsPerModel': 1000 * train_seconds / T,
    'holdoutRmse': rmse,
    'singleRowMicros': {'p50': lat[len(lat) // 2] / 1000, 'p99': lat[int(len(lat) * 0.99)] / 1000},
    'batchRowsPerSecond': {'threads2': rate2, 'threads1': rate1},
    'batchRows': len(big),
    'holdoutPredictionsTenant0': [float(v) for v in boosters[0].inplace_predict(Xho[0])[:5]],
}, sys.stdout)
