/**
 * Integrity envelope for stored artifacts. The store layer, not each artifact
 * format, owns integrity: every object is written as
 * `magic "TMLA" | format | 3 reserved | payload length (u64 BE) | checksum (32 bytes) | payload`
 * and verified on every read. One envelope works the same on a folder, Redis
 * and S3 (no sidecar file or metadata that could be written separately from
 * the bytes), so "the object appears whole or not at all" still holds.
 *
 * Format 1 carries the payload's sha256: model artifacts, whose digest the
 * registry records and a load compares. Format 2 carries a CRC-32 (then 28
 * zero bytes): for search indexes, caches rebuilt from Postgres, where the
 * checksum only has to catch damage and is paid on every cold query (the
 * native CRC-32 reads a 3 MB index in a third of sha256's time). Every reader
 * opens both.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { AppError } from '../errors.js';

const MAGIC = [0x54, 0x4d, 0x4c, 0x41]; // "TMLA"
/** The checksum an envelope carries, by format byte. */
const FORMATS = { sha256: 1, crc32: 2 } as const;
export type SealChecksum = keyof typeof FORMATS;
/** Size of the envelope's header in bytes. */
export const SEAL_HEADER_BYTES = 48;

/** Wraps `payload` in the integrity envelope. */
export function sealArtifact(payload: Uint8Array, checksum: SealChecksum = 'sha256'): Uint8Array {
  const out = new Uint8Array(SEAL_HEADER_BYTES + payload.byteLength);
  out.set(MAGIC, 0);
  out[4] = FORMATS[checksum];
  const view = new DataView(out.buffer);
  view.setBigUint64(8, BigInt(payload.byteLength));
  if (checksum === 'sha256') out.set(createHash('sha256').update(payload).digest(), 16);
  else view.setUint32(16, crc32(payload));
  out.set(payload, SEAL_HEADER_BYTES);
  return out;
}

/** The error for an object that exists but fails verification: never served, never guessed around. */
export function corruptArtifact(key: string, reason: string): AppError {
  return new AppError('internal', `artifact '${key}' is corrupt: ${reason}`, { details: { key, reason } });
}

/** Verifies the envelope and returns the payload (a view, no copy); throws a clear error if corrupt. */
export function openArtifact(sealed: Uint8Array, key = '(unnamed)'): Uint8Array {
  if (sealed.byteLength < SEAL_HEADER_BYTES) throw corruptArtifact(key, 'shorter than its header');
  for (let i = 0; i < MAGIC.length; i++) {
    if (sealed[i] !== MAGIC[i]) throw corruptArtifact(key, 'not a sealed artifact (bad magic)');
  }
  const format = sealed[4];
  if (format !== FORMATS.sha256 && format !== FORMATS.crc32) throw corruptArtifact(key, `unknown envelope format ${format}`);
  const view = new DataView(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const length = view.getBigUint64(8);
  const payload = sealed.subarray(SEAL_HEADER_BYTES);
  if (BigInt(payload.byteLength) !== length) {
    throw corruptArtifact(key, `length ${payload.byteLength} does not match the recorded ${length} (truncated or padded)`);
  }
  if (format === FORMATS.crc32) {
    if (view.getUint32(16) !== crc32(payload)) throw corruptArtifact(key, 'crc32 checksum mismatch');
    return payload;
  }
  const expected = sealed.subarray(16, SEAL_HEADER_BYTES);
  const actual = createHash('sha256').update(payload).digest();
  if (!actual.equals(expected)) throw corruptArtifact(key, 'sha256 checksum mismatch');
  return payload;
}

/** The sha256 recorded in a sealed object's envelope, as hex (not verified: `openArtifact` does that); '' when it records none. */
export function sealedDigestHex(sealed: Uint8Array): string {
  if (sealed.byteLength < SEAL_HEADER_BYTES || sealed[4] !== FORMATS.sha256) return '';
  return Buffer.from(sealed.buffer, sealed.byteOffset + 16, 32).toString('hex');
}
