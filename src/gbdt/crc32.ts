/**
 * CRC-32 (IEEE, as zip and PNG). Uses the runtime's native implementation
 * when it has one (Node >= 20.15), otherwise a table-driven fallback.
 */
import * as zlib from 'node:zlib';

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

let table: Uint32Array | null = null;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
}

/** Portable CRC-32 of bytes (exported for tests against the native one). */
export function crc32Portable(bytes: Uint8Array): number {
  table ??= makeTable();
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 of bytes as an unsigned 32-bit integer. */
export function crc32(bytes: Uint8Array): number {
  return native === undefined ? crc32Portable(bytes) : native(bytes) >>> 0;
}
