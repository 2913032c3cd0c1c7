import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashSecret, newAdminKey, newTenantKey, parseTenantKey, randomToken, secretMatches } from '../../src/tenancy/api-key.js';

test('tenant keys have the documented shape and parse back', () => {
  const k = newTenantKey();
  assert.match(k.apiKey, /^tml_[a-z0-9]{12}_[A-Za-z0-9]{32}$/);
  assert.deepEqual(parseTenantKey(k.apiKey), { keyId: k.keyId, secret: k.secret });
  assert.equal(parseTenantKey(`${k.apiKey}x`), null);
  assert.equal(parseTenantKey('tml_short_secret'), null);
  assert.equal(parseTenantKey(newAdminKey()), null, 'an operator key is never a tenant key');
});

test('only the hash is needed to check a secret, and a wrong secret fails', () => {
  const k = newTenantKey();
  const stored = hashSecret(k.secret);
  assert.equal(secretMatches(k.secret, stored), true);
  assert.equal(secretMatches(`${k.secret.slice(0, -1)}X`, stored), k.secret.endsWith('X'));
  assert.equal(secretMatches(k.secret, Buffer.alloc(5)), false);
});

test('random tokens use the whole alphabet and differ', () => {
  const tokens = new Set(Array.from({ length: 200 }, () => randomToken(16)));
  assert.equal(tokens.size, 200);
  const chars = new Set([...tokens].join(''));
  assert.ok(chars.size > 55, 'close to all 62 characters appear');
});
