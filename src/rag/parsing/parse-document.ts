import { errors } from '../../errors.js';
import { decodeUtf8 } from './decode-utf8.js';
import type { DocumentFormat, ParsedDocument } from './parsed-document.js';
import { documentTextLength } from './parsed-document.js';
import { parseHtml } from './parse-html.js';
import { parseMarkdown } from './parse-markdown.js';
import { type PdfParseOptions, parsePdf } from './parse-pdf.js';
import { parsePlainText } from './parse-text.js';

/** The media types an upload may declare, and the format each means. */
export const ACCEPTED_CONTENT_TYPES: Readonly<Record<string, DocumentFormat>> = {
  'application/pdf': 'pdf',
  'text/plain': 'text',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
};

const EXTENSIONS: Readonly<Record<string, DocumentFormat>> = {
  pdf: 'pdf', txt: 'text', text: 'text', md: 'markdown', markdown: 'markdown', html: 'html', htm: 'html', xhtml: 'html',
};

/** What an upload says about itself; `format` wins, then the content type, then the file name. */
export interface DocumentInput {
  bytes: Uint8Array;
  format?: DocumentFormat;
  contentType?: string;
  filename?: string;
}

/**
 * Works out the format of an upload. A PDF signature in the bytes wins over a
 * generic type (`application/octet-stream`); an unknown type is a 415.
 */
export function detectFormat(input: DocumentInput): DocumentFormat {
  if (input.format) return input.format;
  const type = input.contentType?.split(';')[0]?.trim().toLowerCase();
  if (type && ACCEPTED_CONTENT_TYPES[type]) return ACCEPTED_CONTENT_TYPES[type];
  const ext = input.filename?.toLowerCase().match(/\.([a-z]+)$/)?.[1];
  if (ext && EXTENSIONS[ext]) return EXTENSIONS[ext];
  if (startsWithPdfSignature(input.bytes)) return 'pdf';
  if (!type || type === 'application/octet-stream') return 'text';
  throw errors.unsupportedMediaType(type, Object.keys(ACCEPTED_CONTENT_TYPES));
}

/**
 * Parses an upload into pages of blocks. CPU-heavy for PDFs: call it through
 * the worker pool (`createRagWorkerPool`) in a server, directly in tests/tools.
 */
export async function parseDocument(input: DocumentInput, options: PdfParseOptions = {}): Promise<ParsedDocument> {
  if (input.bytes.length === 0) throw errors.validation('document is empty');
  const format = detectFormat(input);
  const doc = await parseAs(format, input.bytes, options);
  if (documentTextLength(doc) === 0) throw errors.validation(`${format} document contains no text`);
  return doc;
}

async function parseAs(format: DocumentFormat, bytes: Uint8Array, options: PdfParseOptions): Promise<ParsedDocument> {
  switch (format) {
    case 'pdf':
      return parsePdf(bytes, options);
    case 'text':
      return parsePlainText(decodeUtf8(bytes, 'text document'));
    case 'markdown':
      return parseMarkdown(decodeUtf8(bytes, 'Markdown document'));
    case 'html':
      return parseHtml(decodeUtf8(bytes, 'HTML document'));
  }
}

function startsWithPdfSignature(bytes: Uint8Array): boolean {
  return bytes[0] === 0x25 && bytes[1] === 0x50 && bytes[2] === 0x44 && bytes[3] === 0x46 && bytes[4] === 0x2d;
}
