/**
 * The one tokenizer of the RAG domain, shared by the hash embedder and the
 * extractive answerer so that both agree on what a term is.
 */

/** English function words that carry no topic; skipped as terms. */
export const STOPWORDS: ReadonlySet<string> = new Set(
  ('a an and are as at be been but by can could did do does for from had has have how i if in into is it its ' +
    'may me might my no not of on or our shall should so such than that the their them then there these they this ' +
    'those to us was we were what when where which while who whom why will with would you your about also any ' +
    'each other some only own same too very just over under again further once here both few more most').split(' '),
);

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu;

/** Lower-cased, NFKC-normalised words of a text, in order (stopwords included). */
export function words(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(WORD)?.map((w) => w.replace(/['’]s$/, '').replace(/['’]/g, '')) ?? [];
}

/** Suffix, replacement, shortest stem the rule may leave; first match wins. */
const SUFFIX_RULES: ReadonlyArray<readonly [RegExp, string, number]> = [
  [/ational$/, 'ate', 4], [/ization$/, 'ize', 4], [/ations?$/, 'ate', 4], [/iveness$/, 'ive', 4],
  [/fulness$/, 'ful', 4], [/ousness$/, 'ous', 4], [/ments?$/, '', 4], [/ies$/, 'y', 3], [/ied$/, 'y', 3],
  [/(ss)es$/, '$1', 3], [/([^s])s$/, '$1', 3], [/ingly$/, '', 4], [/edly$/, '', 4], [/ing$/, '', 4],
  [/ed$/, '', 4], [/ly$/, '', 4],
];

/**
 * A light suffix stripper (plural, -ing, -ed, -ly, -ation ...): enough to let
 * "refunds" meet "refund" and "shipping" meet "shipped" without a stemmer library.
 */
export function stem(word: string): string {
  if (word.length <= 3 || /\d/.test(word)) return word;
  for (const [re, rep, minStem] of SUFFIX_RULES) {
    if (!re.test(word)) continue;
    const out = word.replace(re, rep);
    if (out.length < minStem) continue;
    // "shipped" -> "shipp" -> "ship": undo a doubled final consonant.
    return /([b-df-hj-np-tv-z])\1$/.test(out) && !/(ll|ss|zz)$/.test(out) ? out.slice(0, -1) : out;
  }
  return word;
}

/** Stems of recent words: ingestion and lexical indexing stem the same few thousand words over and over. */
const stemCache = new Map<string, string>();
const STEM_CACHE_MAX = 50_000;

/** Stemmed content words (stopwords removed): the terms used for matching. */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const w of words(text)) {
    if (STOPWORDS.has(w)) continue;
    let s = stemCache.get(w);
    if (s === undefined) {
      if (stemCache.size >= STEM_CACHE_MAX) stemCache.clear();
      s = stem(w);
      stemCache.set(w, s);
    }
    out.push(s);
  }
  return out;
}
