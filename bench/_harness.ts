/** Shared pieces of the benchmarks: timing statistics and JSON output. */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Progress for humans goes to stderr; stdout carries only the result JSON. */
export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function printResult(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

/** The text after `--name` on the command line, if any. */
function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** `--name value` from the command line, or the fallback. */
export function argNumber(name: string, fallback: number): number {
  const value = argValue(name);
  return value !== undefined ? Number(value) : fallback;
}

/** `--name one-of-choices` from the command line, or the fallback. */
export function argChoice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
  const value = argValue(name) ?? fallback;
  if (!(choices as readonly string[]).includes(value)) throw new Error(`--${name} takes ${choices.join(' or ')}`);
  return value as T;
}

/** `--name 16,64` from the command line (positive integers), or the fallback. */
export function argList(name: string, fallback: number[]): number[] {
  const value = argValue(name);
  if (value === undefined) return fallback;
  const values = value.split(',').map(Number);
  if (values.some((v) => !Number.isInteger(v) || v <= 0)) throw new Error(`--${name} takes positive integers separated by commas`);
  return values;
}
