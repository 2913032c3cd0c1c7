/**
 * Object keys of the artifact store. Every tenant-owned key starts with
 * `tenants/<tenantId>/`, so a tenant's artifacts can be listed and purged by
 * one prefix, and a key built from user input can never escape its tenant.
 */
import { errors } from '../errors.js';

/** The parts of a tenant-owned artifact's key. */
export interface ArtifactKeyParts {
  tenantId: string;
  /** The kind of artifact, e.g. `models`, `indexes`, `datasets`. */
  kind: string;
  name: string;
  version: string | number;
  file: string;
}

// Starts with a letter or digit, so `.`, `..` and hidden names are impossible.
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const PREFIX = /^[A-Za-z0-9._/-]*$/;

/** True if `value` is allowed as one segment of a key. */
export function isSafeKeySegment(value: string): boolean {
  return SEGMENT.test(value);
}

function segment(field: string, value: string | number): string {
  const text = String(value);
  if (!SEGMENT.test(text)) {
    throw errors.validation(
      `artifact key part '${field}' must be 1-128 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`,
      { field, value: text.slice(0, 200) },
    );
  }
  return text;
}

/** Builds `tenants/<tenantId>/<kind>/<name>/<version>/<file>`, validating every part. */
export function artifactKey(parts: ArtifactKeyParts): string {
  return [
    'tenants',
    segment('tenantId', parts.tenantId),
    segment('kind', parts.kind),
    segment('name', parts.name),
    segment('version', parts.version),
    segment('file', parts.file),
  ].join('/');
}

/** The prefix holding everything a tenant owns in the store (used by purge). */
export function tenantArtifactPrefix(tenantId: string): string {
  return `tenants/${segment('tenantId', tenantId)}/`;
}

/** Splits a key made by `artifactKey` back into its parts, or returns null. */
export function parseArtifactKey(key: string): ArtifactKeyParts | null {
  const parts = key.split('/');
  if (parts.length !== 6 || parts[0] !== 'tenants' || !parts.every((p) => SEGMENT.test(p))) return null;
  const [, tenantId, kind, name, version, file] = parts as [string, string, string, string, string, string];
  return { tenantId, kind, name, version, file };
}

/** Throws a validation error unless `key` is a sequence of safe segments joined by `/`. */
export function assertStoreKey(key: string): void {
  const parts = key.split('/');
  if (key.length > 1024 || !parts.every((p) => SEGMENT.test(p))) {
    throw errors.validation('invalid artifact key: use safe segments joined by "/" (no "..", no empty parts)', {
      key: key.slice(0, 200),
    });
  }
}

/** Throws a validation error unless `prefix` is a safe key prefix (may end inside a segment or with `/`). */
export function assertStorePrefix(prefix: string): void {
  const parts = prefix.split('/');
  const badSegment = parts.some((p, i) => (p === '' && i !== parts.length - 1) || p === '.' || p === '..' || p.startsWith('.'));
  if (prefix.length > 1024 || !PREFIX.test(prefix) || (prefix !== '' && badSegment)) {
    throw errors.validation('invalid artifact key prefix', { prefix: prefix.slice(0, 200) });
  }
}
