import { isUtf8 } from 'node:buffer';
import { errors } from '../../errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Decodes UTF-8 bytes strictly. Invalid sequences are rejected with the byte
 * offset, because silently replacing them would index mojibake; NUL bytes are
 * rejected because they mean a binary file was sent as text.
 */
export function decodeUtf8(bytes: Uint8Array, what = 'text'): string {
  if (!isUtf8(bytes)) {
    const offset = firstInvalidUtf8Offset(bytes);
    throw errors.validation(`${what} is not valid UTF-8 (invalid byte sequence at byte ${offset}); re-encode it as UTF-8`, {
      offset,
    });
  }
  const text = decoder.decode(bytes);
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    throw errors.validation(`${what} contains NUL characters; it looks like a binary file, not text`, { offset: nul });
  }
  return text;
}

/** Byte offset of the first invalid UTF-8 sequence (bytes.length when all valid). */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i += 1;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    let cp = b & (0x3f >> need);
    for (let j = 1; j <= need; j++) {
      const c = bytes[i + j];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return i;
}
