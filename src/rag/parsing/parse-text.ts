import { type Block, type ParsedDocument, type ParsedPage, collapseWhitespace } from './parsed-document.js';

/**
 * Parses plain text: paragraphs are separated by blank lines, and a form feed
 * (the page break `pdftotext` writes) starts a new page.
 */
export function parsePlainText(text: string): ParsedDocument {
  const pages: ParsedPage[] = [];
  const rawPages = text.replace(/\r\n?/g, '\n').split('\f');
  rawPages.forEach((raw, i) => {
    const blocks: Block[] = [];
    for (const para of raw.split(/\n[ \t]*\n/)) {
      const t = collapseWhitespace(para);
      if (t) blocks.push({ kind: 'paragraph', text: t });
    }
    pages.push({ page: i + 1, blocks });
  });
  return { format: 'text', pages };
}
