import { errors } from '../../errors.js';
import { type Block, type ParsedDocument, type ParsedPage, collapseWhitespace } from './parsed-document.js';

/** Limits that keep one upload from monopolising a worker. */
export interface PdfParseOptions {
  /** Documents with more pages are rejected (default 2,000). */
  maxPages?: number;
}

/** A positioned run of text, as pdf.js reports it. */
interface TextRun {
  str: string;
  x: number;
  y: number;
  width: number;
  size: number;
  eol: boolean;
}

interface Line {
  text: string;
  y: number;
  size: number;
}

/**
 * Extracts the text layer of a PDF with pdf.js (legacy build: runs in plain
 * Node and in worker threads, fetches nothing). Page numbers are the PDF's own;
 * larger-than-body lines become headings. Encrypted, damaged and image-only
 * PDFs are rejected with a validation error that names the problem.
 */
export async function parsePdf(bytes: Uint8Array, options: PdfParseOptions = {}): Promise<ParsedDocument> {
  const maxPages = options.maxPages ?? 2000;
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 1024));
  if (!head.includes('%PDF-')) throw errors.validation('file is not a PDF (no %PDF- header)');

  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  // pdf.js transfers (detaches) the buffer it is given, so hand it a copy.
  const task = pdfjs.getDocument({
    data: bytes.slice(),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    verbosity: 0,
  });
  let pdf: Awaited<typeof task.promise>;
  try {
    pdf = await task.promise;
  } catch (err) {
    await task.destroy();
    throw pdfOpenError(err);
  }
  try {
    if (pdf.numPages > maxPages) {
      throw errors.validation(`PDF has ${pdf.numPages} pages; at most ${maxPages} are accepted`, { pages: pdf.numPages });
    }
    const pageRuns: TextRun[][] = [];
    for (let p = 1; p <= pdf.numPages; p++) {
      const page = await pdf.getPage(p);
      const content = await page.getTextContent();
      const runs: TextRun[] = [];
      for (const item of content.items) {
        if (!('str' in item)) continue;
        const t = item.transform as number[];
        runs.push({
          str: item.str,
          x: t[4] ?? 0,
          y: t[5] ?? 0,
          width: item.width,
          size: Math.abs(item.height) || Math.hypot(t[2] ?? 0, t[3] ?? 0),
          eol: item.hasEOL,
        });
      }
      pageRuns.push(runs);
      page.cleanup();
    }
    const pageLines = pageRuns.map(toLines);
    const bodySize = dominantSize(pageLines.flat());
    const headingSizes = [...new Set(pageLines.flat().filter((l) => isHeadingLine(l, bodySize)).map((l) => round1(l.size)))].sort((a, b) => b - a);
    const pages: ParsedPage[] = pageLines.map((lines, i) => ({ page: i + 1, blocks: toBlocks(lines, bodySize, headingSizes) }));
    if (pages.every((p) => p.blocks.length === 0)) {
      throw errors.validation(
        'PDF has no text layer (it looks scanned or image-only); OCR is not supported, upload a PDF with selectable text',
        { pages: pdf.numPages },
      );
    }
    const info = (await pdf.getMetadata().catch(() => undefined))?.info as { Title?: unknown } | undefined;
    const title = typeof info?.Title === 'string' ? collapseWhitespace(info.Title) : '';
    return title ? { format: 'pdf', title, pages } : { format: 'pdf', pages };
  } finally {
    await pdf.destroy();
  }
}

function pdfOpenError(err: unknown): Error {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'PasswordException') {
    return errors.validation('PDF is encrypted (password-protected); upload a copy without a password');
  }
  return errors.validation(`PDF is damaged or unreadable: ${message}`, { reason: name || 'unknown' });
}

/** Groups positioned runs into lines: a new line on an end-of-line mark or a vertical jump. */
function toLines(runs: TextRun[]): Line[] {
  const lines: Line[] = [];
  let cur: { parts: string[]; y: number; size: number; chars: number; endX: number } | undefined;
  const close = () => {
    if (!cur) return;
    const text = collapseWhitespace(cur.parts.join(''));
    if (text) lines.push({ text, y: cur.y, size: cur.size });
    cur = undefined;
  };
  for (const r of runs) {
    if (cur && Math.abs(r.y - cur.y) > Math.max(cur.size, r.size) * 0.5 && r.str.trim()) close();
    if (r.str) {
      if (!cur) cur = { parts: [], y: r.y, size: 0, chars: 0, endX: r.x };
      const prev = cur.parts[cur.parts.length - 1];
      // Runs placed apart without a space character still separate words.
      if (prev !== undefined && !/\s$/.test(prev) && !/^\s/.test(r.str) && r.x - cur.endX > r.size * 0.15) cur.parts.push(' ');
      cur.parts.push(r.str);
      const n = r.str.trim().length;
      if (n > 0) {
        cur.size = (cur.size * cur.chars + r.size * n) / (cur.chars + n);
        cur.chars += n;
      }
      cur.endX = r.x + r.width;
    }
    if (r.eol) close();
  }
  close();
  return lines;
}

/** The font size carrying the most characters: the body text size. */
function dominantSize(lines: Line[]): number {
  const weight = new Map<number, number>();
  for (const l of lines) weight.set(round1(l.size), (weight.get(round1(l.size)) ?? 0) + l.text.length);
  let best = 0;
  let bestWeight = -1;
  for (const [size, w] of weight) if (w > bestWeight) [best, bestWeight] = [size, w];
  return best;
}

function isHeadingLine(line: Line, bodySize: number): boolean {
  return bodySize > 0 && line.size >= bodySize * 1.15 && line.text.length <= 150;
}

/** Turns lines into headings and paragraphs, splitting paragraphs on larger vertical gaps. */
function toBlocks(lines: Line[], bodySize: number, headingSizes: number[]): Block[] {
  const blocks: Block[] = [];
  let para: string[] = [];
  let prev: Line | undefined;
  let heading: { text: string[]; size: number } | undefined;
  const flushPara = () => {
    const text = joinLines(para);
    if (text) blocks.push({ kind: 'paragraph', text });
    para = [];
  };
  const flushHeading = () => {
    if (!heading) return;
    const level = Math.min(6, headingSizes.indexOf(round1(heading.size)) + 1 || 1);
    blocks.push({ kind: 'heading', text: joinLines(heading.text), level });
    heading = undefined;
  };
  for (const line of lines) {
    if (isHeadingLine(line, bodySize)) {
      flushPara();
      if (heading && round1(heading.size) === round1(line.size)) heading.text.push(line.text);
      else {
        flushHeading();
        heading = { text: [line.text], size: line.size };
      }
    } else {
      flushHeading();
      const gap = prev ? Math.abs(prev.y - line.y) : 0;
      if (prev && gap > Math.max(line.size, prev.size) * 1.8) flushPara();
      para.push(line.text);
    }
    prev = line;
  }
  flushPara();
  flushHeading();
  return blocks;
}

/** Joins wrapped lines, undoing end-of-line hyphenation ("exam-" + "ple"). */
function joinLines(lines: string[]): string {
  let out = '';
  for (const l of lines) {
    if (out.endsWith('-') && /\p{Ll}-$/u.test(out) && /^\p{Ll}/u.test(l)) out = out.slice(0, -1) + l;
    else out = out ? `${out} ${l}` : l;
  }
  return collapseWhitespace(out);
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
