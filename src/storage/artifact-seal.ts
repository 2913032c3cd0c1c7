/**
 * Integrity envelope for stored artifacts. The store layer, not each artifact
 * format, owns integrity: every object is written as
 * `magic "TMLA" | format 1 | 3 reserved | payload length (u64 BE) | sha256(payload) | payload`
 * and verified on every read. One envelope works the same on a folder, Redis
 * and S3 (no sidecar file or metadata that could be written separately from
 * the bytes), so "the object appears whole or not at all" still holds.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';

const MAGIC = [0x54, 0x4d, 0x4c, 0x41]; // "TMLA"
const FORMAT = 1;
/** Size of the envelope's header in bytes. */
export const SEAL_HEADER_BYTES = 48;

/** Wraps `payload` in the integrity envelope. */
export function sealArtifact(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(SEAL_HEADER_BYTES + payload.byteLength);
  out.set(MAGIC, 0);
  out[4] = FORMAT;
  new DataView(out.buffer).setBigUint64(8, BigInt(payload.byteLength));
  out.set(createHash('sha256').update(payload).digest(), 16);
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
  if (sealed[4] !== FORMAT) throw corruptArtifact(key, `unknown envelope format ${sealed[4]}`);
  const view = new DataView(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const length = view.getBigUint64(8);
  const payload = sealed.subarray(SEAL_HEADER_BYTES);
  if (BigInt(payload.byteLength) !== length) {
    throw corruptArtifact(key, `length ${payload.byteLength} does not match the recorded ${length} (truncated or padded)`);
  }
  const expected = sealed.subarray(16, SEAL_HEADER_BYTES);
  const actual = createHash('sha256').update(payload).digest();
  if (!actual.equals(expected)) throw corruptArtifact(key, 'sha256 checksum mismatch');
  return payload;
}

/** The sha256 recorded in a sealed object's envelope, as hex (not verified: `openArtifact` does that). */
export function sealedDigestHex(sealed: Uint8Array): string {
  if (sealed.byteLength < SEAL_HEADER_BYTES) return '';
  return Buffer.from(sealed.buffer, sealed.byteOffset + 16, 32).toString('hex');
}
