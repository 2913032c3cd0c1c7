/**
 * Counters and histograms for code that runs on every request. prom-client
 * hashes a label object on every call; these keep their series in a tree of
 * Maps keyed by label values, so a hot call allocates nothing, and render in
 * prom-client's format when the registry is scraped (the `/metrics` text is
 * the same). Label values are positional, in `labelNames` order; at most three.
 */
import type { MetricValue, MetricValueWithName, Registry } from 'prom-client';

interface Series {
  labels: Record<string, string>;
}

/** One counter series. */
export interface CounterSeries extends Series {
  value: number;
}

/** One histogram series: counts per bucket (the last is +Inf), sum and count. */
export interface HistogramSeries extends Series {
  buckets: Float64Array;
  sum: number;
  count: number;
}

interface MetricOptions {
  name: string;
  help: string;
  labelNames: readonly string[];
  registers: Registry[];
}

abstract class RequestPathMetric<S extends Series> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum' as const;
  private readonly labelNames: readonly string[];
  private root = new Map<string, unknown>();
  private readonly all: S[] = [];

  constructor(options: MetricOptions) {
    if (options.labelNames.length > 3) throw new Error(`${options.name}: at most three labels`);
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  protected abstract create(labels: Record<string, string>): S;

  /** The series of these label values (created at first use). */
  series(a = '', b = '', c = ''): S {
    const depth = this.labelNames.length;
    let node = this.root;
    if (depth <= 1) return this.leaf(node, a, a, b, c);
    node = this.branch(node, a);
    if (depth === 2) return this.leaf(node, b, a, b, c);
    return this.leaf(this.branch(node, b), c, a, b, c);
  }

  private branch(node: Map<string, unknown>, key: string): Map<string, unknown> {
    let next = node.get(key) as Map<string, unknown> | undefined;
    if (next === undefined) {
      next = new Map();
      node.set(key, next);
    }
    return next;
  }

  private leaf(node: Map<string, unknown>, key: string, a: string, b: string, c: string): S {
    let found = node.get(key) as S | undefined;
    if (found === undefined) {
      const values = [a, b, c];
      found = this.create(Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]!])));
      node.set(key, found);
      this.all.push(found);
    }
    return found;
  }

  protected abstract render(series: S): MetricValueWithName<string>[] | MetricValue<string>[];

  /** What prom-client's registry reads at a scrape (the shape its own metrics return). */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: MetricValue<string>[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.all.flatMap((s) => this.render(s)) };
  }

  reset(): void {
    this.root = new Map();
    this.all.length = 0;
  }
}

/** A counter whose series are found by label values. */
export class RequestPathCounter extends RequestPathMetric<CounterSeries> {
  readonly type = 'counter' as const;

  inc(a?: string, b?: string, c?: string): void {
    this.series(a, b, c).value++;
  }

  protected create(labels: Record<string, string>): CounterSeries {
    return { labels, value: 0 };
  }

  protected render(s: CounterSeries): MetricValue<string>[] {
    return [{ labels: s.labels, value: s.value }];
  }
}

/** A histogram whose series are found by label values. */
export class RequestPathHistogram extends RequestPathMetric<HistogramSeries> {
  readonly type = 'histogram' as const;
  private readonly bounds: Float64Array;

  constructor(options: MetricOptions & { buckets: readonly number[] }) {
    super(options);
    this.bounds = Float64Array.from([...options.buckets].sort((x, y) => x - y));
  }

  /** Records `value` in the series of the label values given before it. */
  observe(value: number, a?: string, b?: string, c?: string): void {
    if (!Number.isFinite(value)) return;
    const s = this.series(a, b, c);
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    s.buckets[i]!++;
    s.sum += value;
    s.count++;
  }

  protected create(labels: Record<string, string>): HistogramSeries {
    return { labels, buckets: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  protected render(s: HistogramSeries): MetricValueWithName<string>[] {
    const out: MetricValueWithName<string>[] = [];
    let cumulative = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += s.buckets[i]!;
      out.push({ metricName: `${this.name}_bucket`, labels: { le: i < this.bounds.length ? this.bounds[i]! : '+Inf', ...s.labels }, value: cumulative });
    }
    out.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
    out.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    return out;
  }
}
