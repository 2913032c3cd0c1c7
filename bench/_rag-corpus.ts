/**
 * Real English text for the RAG benchmarks: sentences from the Markdown files
 * in node_modules, re-mixed into chunk-sized paragraphs and into questions,
 * from a seeded generator so every run sees the same text.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { splitSentences } from '../src/rag/text/sentences.js';

/** A seeded uniform generator in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Markdown files of at least 2 KB below `dir` (real prose: the corpus the RAG benches draw on). */
export function markdownFiles(dir: string, out: string[], depth = 0): string[] {
  if (depth > 6) return out;
  let entries: string[] = [];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    try {
      const st = statSync(p);
      if (st.isDirectory()) markdownFiles(p, out, depth + 1);
      else if (name.toLowerCase().endsWith('.md') && st.size > 2000) out.push(p);
    } catch {
      // unreadable entries are skipped
    }
  }
  return out;
}

/** Paragraphs and questions drawn from one pool of real sentences. */
export interface TextCorpus {
  sentences: number;
  /** A paragraph of 600–900 characters: one chunk at the default 1,000-character target. */
  paragraph(): string;
  /** A question: a sentence with a third of its words dropped. */
  question(): string;
  /** A sentence in the characters the standard PDF fonts can encode (WinAnsi). */
  asciiSentence(): string;
}

/** Reads the sentence pool (a second or two) and returns generators seeded with `seed`. */
export function loadTextCorpus(seed = 42): TextCorpus {
  const found = new Set<string>();
  for (const file of markdownFiles('node_modules', [])) {
    const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, ' ').replace(/[#>*`|[\]()_-]+/g, ' ');
    for (const s of splitSentences(text.replace(/\s+/g, ' '))) if (s.length >= 40 && s.length <= 300 && /[a-z]{3}/.test(s)) found.add(s);
  }
  const pool = [...found];
  const random = seededRandom(seed);
  const pick = () => pool[Math.floor(random() * pool.length)]!;
  return {
    sentences: pool.length,
    paragraph() {
      let p = pick();
      while (p.length < 600) {
        const next = pick();
        if (p.length + next.length > 900) break;
        p += ` ${next}`;
      }
      return p;
    },
    question: () =>
      pick()
        .split(' ')
        .filter(() => random() > 0.33)
        .join(' ') || pick(),
    asciiSentence: () => pick().replace(/[^\x20-\x7e]/g, ''),
  };
}
