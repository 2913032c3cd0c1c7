import { createHash } from 'node:crypto';

/** The form of a text that hashing compares: NFKC, lower case, single spaces. */
export function normalizeForHash(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** sha256 (hex) of the normalised text, so re-uploads of the same passage dedupe. */
export function contentHash(text: string): string {
  return createHash('sha256').update(normalizeForHash(text)).digest('hex');
}
