import { Parser } from 'htmlparser2';
import { type Block, type BlockKind, type ParsedDocument, collapseWhitespace } from './parsed-document.js';

/** Elements whose content is never document text. */
const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'svg', 'head', 'iframe', 'object', 'canvas', 'button', 'select']);
/** Elements that end the current block of text. */
const BLOCK_BREAKS = new Set([
  'p', 'div', 'section', 'article', 'main', 'aside', 'header', 'footer', 'nav', 'blockquote', 'figure', 'figcaption',
  'ul', 'ol', 'dl', 'dt', 'dd', 'table', 'thead', 'tbody', 'tfoot', 'form', 'fieldset', 'address', 'hr', 'body', 'html',
]);

/**
 * Parses HTML into blocks: h1–h6 become headings, li list items, tr table rows
 * (cells joined by " | "), pre code; scripts, styles and other non-content
 * elements are dropped. Entities are decoded by the tokenizer.
 */
export function parseHtml(html: string): ParsedDocument {
  const blocks: Block[] = [];
  let text = '';
  let kind: BlockKind = 'paragraph';
  let level: number | undefined;
  let skipDepth = 0;
  let preDepth = 0;
  let title = '';
  let inTitle = false;
  const cells: string[] = [];
  let inRow = false;

  const flush = () => {
    const t = preDepth > 0 ? text.trim() : collapseWhitespace(text);
    if (t) blocks.push(level === undefined ? { kind, text: t } : { kind, text: t, level });
    text = '';
    kind = 'paragraph';
    level = undefined;
  };

  const parser = new Parser(
    {
      onopentag(name) {
        if (name === 'title') inTitle = true;
        if (SKIPPED.has(name)) {
          skipDepth++;
          return;
        }
        if (skipDepth > 0) return;
        const heading = /^h([1-6])$/.exec(name);
        if (heading) {
          flush();
          kind = 'heading';
          level = Number(heading[1]);
        } else if (name === 'li') {
          flush();
          kind = 'list-item';
        } else if (name === 'pre') {
          flush();
          preDepth++;
          kind = 'code';
        } else if (name === 'tr') {
          flush();
          inRow = true;
          cells.length = 0;
        } else if (name === 'td' || name === 'th') {
          text = '';
        } else if (name === 'br') {
          text += '\n';
        } else if (BLOCK_BREAKS.has(name)) {
          flush();
        }
      },
      ontext(data) {
        if (inTitle) title += data;
        if (skipDepth === 0) text += data;
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
        if (SKIPPED.has(name)) {
          skipDepth = Math.max(0, skipDepth - 1);
          return;
        }
        if (skipDepth > 0) return;
        if ((name === 'td' || name === 'th') && inRow) {
          cells.push(collapseWhitespace(text));
          text = '';
        } else if (name === 'tr') {
          const row = cells.filter(Boolean).join(' | ');
          if (row) blocks.push({ kind: 'table-row', text: row });
          inRow = false;
          text = '';
        } else if (name === 'pre') {
          flush();
          preDepth = Math.max(0, preDepth - 1);
        } else if (/^h[1-6]$/.test(name) || name === 'li' || BLOCK_BREAKS.has(name)) {
          flush();
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  flush();

  const docTitle = collapseWhitespace(title) || blocks.find((b) => b.kind === 'heading' && b.level === 1)?.text;
  return docTitle ? { format: 'html', title: docTitle, pages: [{ page: 1, blocks }] } : { format: 'html', pages: [{ page: 1, blocks }] };
}
