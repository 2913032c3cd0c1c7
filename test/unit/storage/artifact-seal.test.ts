import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { openArtifact, SEAL_HEADER_BYTES, sealArtifact, sealedDigestHex } from '../../../src/storage/artifact-seal.js';

const payload = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 31 + 7) & 0xff);

describe('artifact envelope', () => {
  for (const checksum of ['sha256', 'crc32'] as const) {
    it(`${checksum}: opens to the same payload, and names the checksum a damaged byte fails`, () => {
      const sealed = sealArtifact(payload, checksum);
      assert.deepEqual(openArtifact(sealed), payload);
      const damaged = sealed.slice();
      damaged[SEAL_HEADER_BYTES + 4321]! ^= 0x10;
      assert.throws(
        () => openArtifact(damaged, 'k'),
        (e: unknown) => e instanceof AppError && e.message === `artifact 'k' is corrupt: ${checksum} checksum mismatch`,
      );
      assert.throws(() => openArtifact(sealed.subarray(0, sealed.length - 1), 'k'), /truncated or padded/);
    });
  }

  it('records the sha256 only in the sha256 format, so a CRC-sealed object never matches a registered digest', () => {
    const digest = createHash('sha256').update(payload).digest('hex');
    assert.equal(sealedDigestHex(sealArtifact(payload)), digest);
    assert.equal(sealedDigestHex(sealArtifact(payload, 'crc32')), '');
  });

  it('refuses an unknown envelope format', () => {
    const sealed = sealArtifact(payload, 'crc32');
    sealed[4] = 9;
    assert.throws(() => openArtifact(sealed, 'k'), /unknown envelope format 9/);
  });
});
