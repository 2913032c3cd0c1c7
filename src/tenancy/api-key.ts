/**
 * API key format and hashing. A tenant key is `tml_<keyid>_<secret>`: the key id
 * finds the row, the secret is checked against its stored SHA-256 in constant
 * time. Secrets are 190 random bits, so a fast hash is enough (no password
 * stretching needed) and keeps authentication cheap on the hot path.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Uniform random characters from `alphabet` (rejection sampling, no modulo bias). */
export function randomToken(length: number, alphabet = ALPHABET): string {
  let out = '';
  const limit = 256 - (256 % alphabet.length);
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}

export interface ParsedTenantKey {
  keyId: string;
  secret: string;
}

const TENANT_KEY = /^tml_([a-z0-9]{12})_([A-Za-z0-9]{32})$/;
const ADMIN_KEY_PREFIX = 'tmladm_';

export function newTenantKey(): { keyId: string; secret: string; apiKey: string } {
  const keyId = randomToken(12, LOWER);
  const secret = randomToken(32);
  return { keyId, secret, apiKey: `tml_${keyId}_${secret}` };
}

export function parseTenantKey(apiKey: string): ParsedTenantKey | null {
  const m = TENANT_KEY.exec(apiKey);
  return m ? { keyId: m[1]!, secret: m[2]! } : null;
}

export function newAdminKey(): string {
  return ADMIN_KEY_PREFIX + randomToken(40);
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: Uint8Array): boolean {
  const presented = hashSecret(secret);
  return presented.length === storedHash.length && timingSafeEqual(presented, storedHash);
}
