import { errors } from '../../errors.js';
import { STOPWORDS, stem, words } from '../text/tokenize.js';
import type { Embedder, HashEmbedderConfig } from './embedder.js';
import { normalizeInPlace } from './embedder.js';

/** Relative weights of the three feature families. */
const WORD_WEIGHT = 1;
const PAIR_WEIGHT = 0.6;
const NGRAM_WEIGHT = 0.5;

/**
 * The default embedder: signed feature hashing of stemmed words, adjacent
 * word pairs and character 3–5-grams, L2-normalised. No weights, no network,
 * identical output on every machine. Stems and character n-grams let
 * "refunds"/"refunded" and misspellings meet; pairs reward matching phrases.
 */
export function createHashEmbedder(config: HashEmbedderConfig = { kind: 'hash' }): Embedder {
  const dimension = config.dimension ?? 384;
  if (!Number.isInteger(dimension) || dimension < 16 || dimension > 8192) {
    throw errors.validation('hash embedder dimension must be an integer between 16 and 8192');
  }
  return {
    id: `hash-v1-${dimension}`,
    dimension,
    async embed(texts) {
      return texts.map((t) => hashEmbed(t, dimension));
    },
  };
}

/** Embeds one text synchronously (exported for workers and benchmarks). */
export function hashEmbed(text: string, dimension: number): Float32Array {
  const v = new Float32Array(dimension);
  const content = words(text).filter((w) => !STOPWORDS.has(w));
  let prev: string | undefined;
  for (const w of content) {
    const s = stem(w);
    add(v, `w:${s}`, WORD_WEIGHT);
    if (prev !== undefined) add(v, `p:${prev} ${s}`, PAIR_WEIGHT);
    prev = s;
    const padded = `<${w}>`;
    const grams: string[] = [];
    for (let n = 3; n <= 5; n++) for (let i = 0; i + n <= padded.length; i++) grams.push(padded.slice(i, i + n));
    // Each word's n-grams share one budget so long words do not dominate.
    const weight = NGRAM_WEIGHT / Math.sqrt(grams.length);
    for (const g of grams) add(v, `c:${g}`, weight);
  }
  return normalizeInPlace(v);
}

function add(v: Float32Array, feature: string, weight: number): void {
  const h = fnv1a(feature);
  const index = h % v.length;
  // The sign comes from other bits than the index, so collisions cancel on average.
  const sign = mix(h) & 1 ? 1 : -1;
  v[index]! += sign * weight;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
