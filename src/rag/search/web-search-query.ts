/**
 * The web-search syntax of `websearch_to_tsquery`, parsed for the in-memory
 * lexical index: quoted phrases, `-` negation and `or` between neighbours;
 * everything else is ANDed. Any text parses (an unbalanced quote runs to the
 * end), so user input never raises a syntax error. Words become `terms()`
 * (stopwords out, stemmed); an item left without terms is dropped.
 */
import { terms } from '../text/tokenize.js';

/** A word or a phrase (several terms must be adjacent, stopwords skipped; so must a hyphenated word's), possibly negated. */
export interface QueryItem {
  terms: string[];
  negated: boolean;
}

/** A parsed query: AND of clauses, each an OR of items. */
export interface WebSearchQuery {
  clauses: QueryItem[][];
  /** Terms of the items that are not negated, in order, deduplicated: what BM25 scores. */
  positiveTerms: string[];
  /** A quoted phrase or a negation is present: only chunks satisfying the clauses match. Otherwise every term counts (OR). */
  strict: boolean;
}

const TOKEN = /(-?)(?:["“”]([^"“”]*)(?:["“”]|$)|([^\s"“”]+))/g;

/** Parses web-search syntax; never throws. */
export function parseWebSearchQuery(query: string): WebSearchQuery {
  const clauses: QueryItem[][] = [];
  let orPending = false;
  let strict = false;
  for (const m of query.matchAll(TOKEN)) {
    const phrase = m[2];
    const word = m[3];
    const negated = m[1] === '-';
    if (phrase === undefined && !negated && word?.toLowerCase() === 'or') {
      orPending = clauses.length > 0;
      continue;
    }
    const itemTerms = terms(phrase ?? word ?? '');
    if (itemTerms.length === 0) continue;
    if (negated || phrase !== undefined) strict = true;
    const item = { terms: itemTerms, negated };
    if (orPending) clauses[clauses.length - 1]!.push(item);
    else clauses.push([item]);
    orPending = false;
  }
  const positive = new Set<string>();
  for (const clause of clauses) for (const item of clause) if (!item.negated) for (const t of item.terms) positive.add(t);
  return { clauses, positiveTerms: [...positive], strict };
}
