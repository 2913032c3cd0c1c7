import { errors } from '../../errors.js';
import type { Block, ParsedDocument } from '../parsing/parsed-document.js';
import { splitSentences } from '../text/sentences.js';
import { contentHash } from './content-hash.js';

/** A retrievable passage: on one page, under one heading path. */
export interface Chunk {
  /** Position in the document, 0-based. */
  index: number;
  /** 1-based page the whole chunk lies on (chunks never straddle pages). */
  page: number;
  /** The headings above the chunk, outermost first. */
  headingPath: string[];
  text: string;
  /** sha256 of the normalised text, for dedupe. */
  contentHash: string;
  /** Rough token count (characters / 4), for budgeting prompts. */
  tokenEstimate: number;
}

/** Sizes in characters (about four per token for English). */
export interface ChunkOptions {
  /** Chunks are packed up to this many characters (default 1,000). */
  targetChars?: number;
  /** Characters of the previous chunk repeated at the start of the next, whole words only (default 150). */
  overlapChars?: number;
}

/** Defaults chosen so a chunk holds a paragraph or two and fits many to a prompt. */
export const DEFAULT_CHUNK_OPTIONS: Readonly<Required<ChunkOptions>> = { targetChars: 1000, overlapChars: 150 };

/**
 * Splits a parsed document into chunks. Headings close the current chunk and
 * update the heading path; a page break closes it too; paragraphs are packed
 * up to the target size; oversized paragraphs are split at sentence, then word
 * boundaries, never inside a word (only a single word longer than the target
 * is cut). Consecutive chunks of one section overlap by whole words.
 */
export function chunkDocument(doc: ParsedDocument, options: ChunkOptions = {}): Chunk[] {
  const targetChars = options.targetChars ?? DEFAULT_CHUNK_OPTIONS.targetChars;
  const overlapChars = options.overlapChars ?? DEFAULT_CHUNK_OPTIONS.overlapChars;
  if (!(targetChars >= 50)) throw errors.validation('chunk targetChars must be at least 50');
  if (!(overlapChars >= 0 && overlapChars < targetChars / 2)) {
    throw errors.validation('chunk overlapChars must be between 0 and half of targetChars');
  }

  const chunks: Chunk[] = [];
  const headings: Array<{ level: number; text: string }> = [];
  const emit = (page: number, text: string) => {
    chunks.push({
      index: chunks.length,
      page,
      headingPath: headings.map((h) => h.text),
      text,
      contentHash: contentHash(text),
      tokenEstimate: Math.ceil(text.length / 4),
    });
  };

  for (const page of doc.pages) {
    let section: Block[] = [];
    for (const block of page.blocks) {
      if (block.kind === 'heading') {
        for (const t of packSection(section, targetChars, overlapChars)) emit(page.page, t);
        section = [];
        const level = block.level ?? 1;
        while (headings.length > 0 && headings[headings.length - 1]!.level >= level) headings.pop();
        headings.push({ level, text: block.text });
      } else {
        section.push(block);
      }
    }
    for (const t of packSection(section, targetChars, overlapChars)) emit(page.page, t);
  }
  // A document of headings only still deserves to be found.
  if (chunks.length === 0) {
    for (const page of doc.pages) {
      const text = page.blocks.map((b) => b.text).join('\n');
      if (text) emit(page.page, text);
    }
  }
  return chunks;
}

/** Packs the blocks of one section (same page, same headings) into chunk texts. */
function packSection(blocks: Block[], target: number, overlap: number): string[] {
  // Each unit remembers whether it starts a block (joined by a newline) or
  // continues a split paragraph (joined by a space).
  const units: Array<{ text: string; sep: string }> = [];
  for (const b of blocks) {
    const text = b.kind === 'list-item' ? `- ${b.text}` : b.text;
    const pieces = text.length <= target ? [text] : splitSentences(text).flatMap((s) => (s.length <= target ? [s] : splitWords(s, target)));
    pieces.forEach((p, i) => {
      units.push({ text: p, sep: i === 0 ? '\n' : ' ' });
    });
  }
  const out: string[] = [];
  let cur = '';
  let curHasNew = false;
  for (const unit of units) {
    if (cur && curHasNew && cur.length + 1 + unit.text.length > target) {
      out.push(cur);
      cur = overlapTail(cur, Math.min(overlap, target - unit.text.length - 1));
      curHasNew = false;
    }
    cur = cur ? `${cur}${unit.sep}${unit.text}` : unit.text;
    curHasNew = true;
  }
  if (cur && curHasNew) out.push(cur);
  return out;
}

/** Splits an over-long sentence at spaces into pieces of at most `max` characters. */
function splitWords(text: string, max: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/)) {
    if (!word) continue;
    if (word.length > max) {
      if (cur) out.push(cur);
      cur = '';
      for (let i = 0; i < word.length; i += max) out.push(word.slice(i, i + max));
      continue;
    }
    if (cur && cur.length + 1 + word.length > max) {
      out.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) out.push(cur);
  return out;
}

/** The last whole words of a text that fit in `max` characters. */
function overlapTail(text: string, max: number): string {
  if (max <= 0) return '';
  const words = text.split(/\s+/);
  let tail = '';
  for (let i = words.length - 1; i >= 0; i--) {
    const w = words[i]!;
    const next = tail ? `${w} ${tail}` : w;
    if (next.length > max) break;
    tail = next;
  }
  return tail;
}

/** The text to embed for a chunk: its heading path gives short passages their topic. */
export function chunkEmbeddingText(chunk: Pick<Chunk, 'headingPath' | 'text'>): string {
  return chunk.headingPath.length > 0 ? `${chunk.headingPath.join(' > ')}\n${chunk.text}` : chunk.text;
}
