import { splitSentences } from '../text/sentences.js';
import { terms } from '../text/tokenize.js';
import { type Answer, type Citation, NO_ANSWER, type RetrievedChunk } from './answer.js';

/** Tuning of the extractive answerer. */
export interface ExtractiveOptions {
  /** Sentences in the answer at most (default 3). */
  maxSentences?: number;
  /** A further sentence must add at least this share of the best sentence's score (default 0.35). */
  minRelativeGain?: number;
}

interface Candidate {
  chunk: RetrievedChunk;
  chunkRank: number;
  sentence: string;
  terms: Set<string>;
  bigrams: Set<string>;
  length: number;
}

/**
 * Answers without a language model: splits the retrieved chunks into
 * sentences, scores each by the question's terms and word pairs it contains
 * (weighted by how rare each term is among the candidates, an idf over this
 * small corpus), then greedily picks the sentences that cover the most
 * not-yet-covered question terms. Every sentence is quoted verbatim and cited.
 */
export function answerExtractively(question: string, chunks: readonly RetrievedChunk[], options: ExtractiveOptions = {}): Answer {
  const maxSentences = options.maxSentences ?? 3;
  const minGain = options.minRelativeGain ?? 0.35;
  const qTerms = [...new Set(terms(question))];
  if (qTerms.length === 0 || chunks.length === 0) return { answer: NO_ANSWER, citations: [] };
  const qBigrams = new Set(pairs(terms(question)));

  const candidates: Candidate[] = [];
  chunks.forEach((chunk, chunkRank) => {
    for (const sentence of splitSentences(chunk.text)) {
      const ts = terms(sentence);
      if (ts.length === 0) continue;
      candidates.push({ chunk, chunkRank, sentence, terms: new Set(ts), bigrams: new Set(pairs(ts)), length: ts.length });
    }
  });
  const idf = new Map<string, number>();
  for (const t of qTerms) {
    const df = candidates.filter((c) => c.terms.has(t)).length;
    idf.set(t, df === 0 ? 0 : Math.log(1 + candidates.length / df));
  }

  const covered = new Set<string>();
  const gain = (c: Candidate) => {
    let score = 0;
    for (const t of qTerms) if (c.terms.has(t)) score += (covered.has(t) ? 0.25 : 1) * idf.get(t)!;
    for (const b of c.bigrams) if (qBigrams.has(b)) score += 0.5;
    // Long sentences match more by chance; earlier-ranked chunks are more trustworthy.
    return (score / (1 + Math.log1p(c.length / 30))) * (1 + 0.1 / (1 + c.chunkRank));
  };

  const picked: Candidate[] = [];
  let best = 0;
  while (picked.length < maxSentences) {
    let top: Candidate | undefined;
    let topGain = 0;
    for (const c of candidates) {
      if (picked.includes(c)) continue;
      const g = gain(c);
      if (g > topGain) [top, topGain] = [c, g];
    }
    if (!top || topGain <= 0 || (picked.length > 0 && topGain < best * minGain)) break;
    if (picked.length === 0) best = topGain;
    picked.push(top);
    for (const t of top.terms) covered.add(t);
  }
  if (picked.length === 0) return { answer: NO_ANSWER, citations: [] };

  // Quote in reading order (chunk rank, then position), one citation per chunk.
  picked.sort((a, b) => a.chunkRank - b.chunkRank || candidates.indexOf(a) - candidates.indexOf(b));
  const citations: Citation[] = [];
  const marker = new Map<string, number>();
  const parts: string[] = [];
  for (const p of picked) {
    let n = marker.get(p.chunk.chunkId);
    if (n === undefined) {
      citations.push({ documentId: p.chunk.documentId, chunkId: p.chunk.chunkId, page: p.chunk.page, text: p.sentence });
      n = citations.length;
      marker.set(p.chunk.chunkId, n);
    } else {
      citations[n - 1]!.text += ` ${p.sentence}`;
    }
    parts.push(`${p.sentence} [${n}]`);
  }
  return { answer: parts.join(' '), citations };
}

function pairs(ts: string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < ts.length; i++) out.push(`${ts[i - 1]} ${ts[i]}`);
  return out;
}
