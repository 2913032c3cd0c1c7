/**
 * The shape every parser produces: pages of typed blocks. Formats without
 * pages (text, Markdown, HTML) produce a single page numbered 1.
 */

/** What a block of text is, so the chunker can keep structure. */
export type BlockKind = 'heading' | 'paragraph' | 'list-item' | 'code' | 'table-row';

/** One structural unit of a page. `level` is 1–6 for headings. */
export interface Block {
  kind: BlockKind;
  text: string;
  level?: number;
}

/** One page of a document; `page` is 1-based and matches the source PDF. */
export interface ParsedPage {
  page: number;
  blocks: Block[];
}

/** The formats the parsers understand. */
export type DocumentFormat = 'pdf' | 'text' | 'markdown' | 'html';

/** A parsed document: its format, an optional title found in it, and its pages. */
export interface ParsedDocument {
  format: DocumentFormat;
  title?: string;
  pages: ParsedPage[];
}

/** Collapses runs of whitespace to one space and trims, keeping the text on one line. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Counts the characters of text in a document, to reject empty ones. */
export function documentTextLength(doc: ParsedDocument): number {
  let n = 0;
  for (const page of doc.pages) for (const block of page.blocks) n += block.text.length;
  return n;
}
