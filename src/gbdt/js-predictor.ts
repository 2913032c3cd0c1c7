/**
 * Compiles a model to JavaScript source, as Treelite compiles trees to C:
 * each tree becomes nested conditionals with its thresholds and leaf values
 * as literals, and V8 compiles that to machine code. Only numbers read from
 * the validated forest's typed arrays are written into the source (feature
 * indices are integers in range, literals come from Float32Arrays), so no
 * model content can inject code. Semantics match the array walker exactly.
 *
 * Trade-off, measured by `npm run bench -- gbdt`: once V8 has optimized the
 * generated functions, single rows are a little faster than the array
 * walker, but batches are slower than its row-lockstep batch kernel, and
 * each model's code starts cold in the interpreter and needs on the order
 * of 10^5 rows before it is optimized, while the shared array kernels are
 * hot for every model. compilePredictor('auto') therefore picks the array
 * walker; 'js' is opt-in.
 */
import { type CompiledForest, compileForest, inCategorySet, isLeaf, sizeOfCompiled } from './compiled-forest.js';
import { type Predictor, wrapPredictor } from './predictor.js';
import type { GbdtModel, NumericArray } from './types.js';

/** Deeper trees are left to the array walker (source nesting and V8 limits). */
export const MAX_JS_TREE_DEPTH = 48;
/** Nodes per generated function, kept small enough for V8's optimizing compiler. */
const NODES_PER_FUNCTION = 1500;

/** True when a model can be compiled to JavaScript. */
export function canCompileToJs(model: GbdtModel): boolean {
  return maxDepthOf(compileForest(model)) <= MAX_JS_TREE_DEPTH;
}

/** Builds the JavaScript-compiled predictor; throws if a tree is deeper than MAX_JS_TREE_DEPTH. */
export function createJsPredictor(model: GbdtModel): Predictor {
  const c = compileForest(model);
  if (maxDepthOf(c) > MAX_JS_TREE_DEPTH) throw new RangeError(`a tree is deeper than ${MAX_JS_TREE_DEPTH}; use the array predictor`);
  const source = generateSource(c);
  const factory = new Function('inSet', 'bits', source) as (
    inSet: typeof inCategorySet,
    bits: Uint32Array,
  ) => (x: NumericArray, o: number) => number;
  const margin = factory(inCategorySet, c.catBits);
  const nf = c.numFeatures;
  const batch = (x: Float32Array, rows: number, out: Float32Array): void => {
    for (let r = 0; r < rows; r++) out[r] = margin(x, r * nf);
  };
  return wrapPredictor('js', c, sizeOfCompiled(c) + 2 * source.length, { row: margin, batch });
}

/** The generated source (exported for inspection in tests). */
export function generateSource(c: CompiledForest): string {
  const chunks: string[] = [];
  let body: string[] = [];
  let nodes = 0;
  const flush = (): void => {
    if (body.length === 0) return;
    chunks.push(`function c${chunks.length}(x, o, s) {\n  let v;\n${body.join('\n')}\n  return s;\n}`);
    body = [];
    nodes = 0;
  };
  for (let t = 0; t < c.roots.length; t++) {
    const size = subtreeSize(c, c.roots[t]!);
    if (nodes > 0 && nodes + size > NODES_PER_FUNCTION) flush();
    body.push(`  s = fr(s + ${expr(c, c.roots[t]!)});`);
    nodes += size;
  }
  flush();
  const calls = chunks.map((_, i) => `  s = c${i}(x, o, s);`).join('\n');
  return [
    "'use strict';",
    'const fr = Math.fround;',
    ...chunks,
    `return function margin(x, o) {\n  let s = ${lit(c.baseMargin)};\n${calls}\n  return s;\n};`,
  ].join('\n');
}

function expr(c: CompiledForest, n: number): string {
  if (isLeaf(c, n)) return lit(c.value[n]!);
  const f = c.stepFeature[n]!;
  const l = c.child[n]!;
  const left = expr(c, l);
  const right = expr(c, l + 1);
  const x = `fr(x[o + ${f | 0}])`;
  if (c.hasCategorical && c.catOffset[n]! >= 0) {
    const miss = c.missLeft[n] === 1 ? left : right;
    return `((v = ${x}) !== v ? ${miss} : inSet(bits, ${c.catOffset[n]! | 0}, ${c.catWords[n]! | 0}, v) ? ${right} : ${left})`;
  }
  const t = lit(c.threshold[n]!);
  // NaN fails both comparisons, so the form of the test picks the missing direction.
  return c.missLeft[n] === 1 ? `(${x} >= ${t} ? ${right} : ${left})` : `(${x} < ${t} ? ${left} : ${right})`;
}

function lit(v: number): string {
  const n = Number(v);
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return 'Infinity';
  if (n === Number.NEGATIVE_INFINITY) return '-Infinity';
  return n < 0 || Object.is(n, -0) ? `(${String(n)})` : String(n);
}

function subtreeSize(c: CompiledForest, n: number): number {
  if (isLeaf(c, n)) return 1;
  return 1 + subtreeSize(c, c.child[n]!) + subtreeSize(c, c.child[n]! + 1);
}

function maxDepthOf(c: CompiledForest): number {
  let max = 0;
  const stack: [number, number][] = [];
  for (let t = 0; t < c.roots.length; t++) {
    stack.push([c.roots[t]!, 0]);
    while (stack.length > 0) {
      const [n, d] = stack.pop()!;
      if (d > max) max = d;
      if (!isLeaf(c, n)) stack.push([c.child[n]!, d + 1], [c.child[n]! + 1, d + 1]);
    }
  }
  return max;
}
