import type { Db } from '../db/db.js';
import { hashSecret, newAdminKey, secretMatches } from './api-key.js';

const SETTING = 'operator_key_sha256';

/**
 * The operator (admin) credential: from TENANTML_ADMIN_KEY, or generated on the
 * first start, printed once, and kept only as a hash.
 */
export class OperatorKey {
  private constructor(private readonly hash: Buffer) {}

  matches(token: string): boolean {
    return secretMatches(token, this.hash);
  }

  /** Returns the key object and, only when it was just generated, the plain key to print. */
  static async init(db: Db, configured: string | undefined): Promise<{ operatorKey: OperatorKey; generated?: string }> {
    if (configured) return { operatorKey: new OperatorKey(hashSecret(configured)) };
    return db.withSystem(async (tx) => {
      const res = await tx.query<{ value: string }>('select value from operator_settings where key = $1', [SETTING]);
      const stored = res.rows[0]?.value;
      if (stored) return { operatorKey: new OperatorKey(Buffer.from(stored, 'hex')) };
      const key = newAdminKey();
      const hash = hashSecret(key);
      // on conflict: another replica generated one first; keep theirs and print nothing.
      const ins = await tx.query<{ value: string }>(
        'insert into operator_settings (key, value) values ($1, $2) on conflict (key) do nothing returning value',
        [SETTING, hash.toString('hex')],
      );
      if (ins.rowCount === 0) {
        const again = await tx.query<{ value: string }>('select value from operator_settings where key = $1', [SETTING]);
        return { operatorKey: new OperatorKey(Buffer.from(again.rows[0]!.value, 'hex')) };
      }
      return { operatorKey: new OperatorKey(hash), generated: key };
    });
  }
}
