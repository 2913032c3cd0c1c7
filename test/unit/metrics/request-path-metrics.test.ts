import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { RequestPathCounter, RequestPathHistogram } from '../../../src/metrics/request-path-metrics.js';

/** Renders one metric through a registry of its own, as `/metrics` would. */
async function render(build: (registry: Registry) => void): Promise<string> {
  const registry = new Registry();
  build(registry);
  return registry.metrics();
}

describe('request-path metrics', () => {
  it('a counter renders as prom-client renders the same increments', async () => {
    const calls: Array<[string, string, string]> = [
      ['predict', '200', 'a'],
      ['predict', '200', 'a'],
      ['predict', '429', 'b'],
      ['usage', '200', ''],
    ];
    const ours = await render((registers) => {
      const c = new RequestPathCounter({ name: 'requests_total', help: 'requests', labelNames: ['operation', 'status', 'tenant'], registers: [registers] });
      for (const [o, s, t] of calls) c.inc(o, s, t);
    });
    const theirs = await render((registers) => {
      const c = new Counter({ name: 'requests_total', help: 'requests', labelNames: ['operation', 'status', 'tenant'], registers: [registers] });
      for (const [operation, status, tenant] of calls) c.inc({ operation, status, tenant });
    });
    assert.equal(ours, theirs);
  });

  it('a histogram renders buckets, sum and count as prom-client does, the bounds included in their bucket', async () => {
    const buckets = [0.001, 0.01, 0.1, 1];
    const values: Array<[number, string]> = [
      [0.0005, 'a'],
      [0.001, 'a'],
      [0.05, 'a'],
      [3, 'a'],
      [0.01, 'b'],
    ];
    const ours = await render((registers) => {
      const h = new RequestPathHistogram({ name: 'latency_seconds', help: 'latency', labelNames: ['tenant'], buckets, registers: [registers] });
      for (const [v, t] of values) h.observe(v, t);
      h.observe(Number.NaN, 'a'); // ignored, as a value that is not a number
    });
    const theirs = await render((registers) => {
      const h = new Histogram({ name: 'latency_seconds', help: 'latency', labelNames: ['tenant'], buckets, registers: [registers] });
      for (const [v, tenant] of values) h.observe({ tenant }, v);
    });
    assert.equal(ours, theirs);
    assert.match(ours, /latency_seconds_bucket\{le="0.001",tenant="a"\} 2/);
  });

  it('keeps series apart by every label, and refuses more than three labels', () => {
    const registry = new Registry();
    const c = new RequestPathCounter({ name: 'x_total', help: 'x', labelNames: ['a', 'b'], registers: [registry] });
    c.inc('1', '2');
    c.inc('1', '3');
    c.inc('1', '2');
    assert.equal(c.series('1', '2').value, 2);
    assert.equal(c.series('1', '3').value, 1);
    assert.throws(() => new RequestPathCounter({ name: 'y_total', help: 'y', labelNames: ['a', 'b', 'c', 'd'], registers: [] }), /at most three labels/);
  });
});
