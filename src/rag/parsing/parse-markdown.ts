import { type Block, type ParsedDocument, collapseWhitespace } from './parsed-document.js';

/**
 * Parses Markdown into headings, paragraphs, list items, code and table rows.
 * A line-based reader, not a full CommonMark implementation: it keeps the
 * structure that matters for chunking and strips inline markup.
 */
export function parseMarkdown(text: string): ParsedDocument {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  let title: string | undefined;
  let i = 0;

  const flush = () => {
    const t = collapseWhitespace(stripInline(paragraph.join(' ')));
    if (t) blocks.push({ kind: 'paragraph', text: t });
    paragraph = [];
  };

  // YAML front matter is metadata, not content; keep only its title.
  if (lines[0]?.trim() === '---') {
    const end = lines.indexOf('---', 1);
    if (end > 0) {
      for (const l of lines.slice(1, end)) {
        const m = /^title:\s*["']?(.*?)["']?\s*$/.exec(l);
        if (m?.[1]) title = m[1];
      }
      i = end + 1;
    }
  }

  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i]!.trim().startsWith(fence[1]!); i++) code.push(lines[i]!);
      const t = code.join('\n').trim();
      if (t) blocks.push({ kind: 'code', text: t });
      continue;
    }
    const atx = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (atx) {
      flush();
      pushHeading(blocks, atx[2]!, atx[1]!.length);
      continue;
    }
    const next = lines[i + 1];
    if (paragraph.length === 0 && line.trim() && next !== undefined && /^\s{0,3}(=+|-+)\s*$/.test(next) && !/^\s*[-*+]\s/.test(line)) {
      pushHeading(blocks, line, next.trim().startsWith('=') ? 1 : 2);
      i++;
      continue;
    }
    if (!line.trim() || /^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      continue;
    }
    const item = /^\s*(?:[-*+]|\d{1,9}[.)])\s+(.*)$/.exec(line);
    if (item) {
      flush();
      const t = collapseWhitespace(stripInline(item[1]!.replace(/^\[[ xX]\]\s+/, '')));
      if (t) blocks.push({ kind: 'list-item', text: t });
      continue;
    }
    if (/^\s*\|.*\|\s*$/.test(line)) {
      flush();
      if (/^\s*\|[\s:|-]+\|\s*$/.test(line)) continue; // the separator row under a header
      const cells = line.trim().slice(1, -1).split('|').map((c) => collapseWhitespace(stripInline(c)));
      blocks.push({ kind: 'table-row', text: cells.join(' | ') });
      continue;
    }
    paragraph.push(line.replace(/^\s*>\s?/, ''));
  }
  flush();

  title ??= blocks.find((b) => b.kind === 'heading' && b.level === 1)?.text;
  return title === undefined ? { format: 'markdown', pages: [{ page: 1, blocks }] } : { format: 'markdown', title, pages: [{ page: 1, blocks }] };
}

function pushHeading(blocks: Block[], raw: string, level: number): void {
  const t = collapseWhitespace(stripInline(raw));
  if (t) blocks.push({ kind: 'heading', text: t, level });
}

/** Removes inline Markdown (links, images, emphasis, code spans, HTML tags), keeping the words. */
export function stripInline(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\[[^\]]*\]/g, '$1')
    .replace(/<\/?[a-zA-Z][^>]*>/g, ' ')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, '$1')
    .replace(/\*(?=\S)(.+?)(?<=\S)\*/g, '$1')
    // Underscores only at word edges, so snake_case identifiers survive.
    .replace(/(?<!\w)__?(?=\S)(.+?)(?<=\S)__?(?!\w)/g, '$1')
    .replace(/~~(.+?)~~/g, '$1')
    .replace(/\\([\\`*_{}[\]()#+\-.!|])/g, '$1');
}
