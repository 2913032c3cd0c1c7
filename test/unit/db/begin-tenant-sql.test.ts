import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { beginTenantSql } from '../../../src/db/db.js';

describe('beginTenantSql', () => {
  it('opens the transaction, enters the app role and the tenant, transaction-locally', () => {
    assert.equal(beginTenantSql('acme-1'), "begin; select set_config('role', 'tenantml_app', true), set_config('app.tenant_id', 'acme-1', true)");
  });

  it('refuses any id that could leave the quoted literal or is empty', () => {
    for (const id of ["a'b", "acme'; reset role; --", 'a\\b', '', 'ACME', 'a b', 'x'.repeat(64)]) {
      assert.throws(() => beginTenantSql(id), /invalid tenant id/, id);
    }
  });
});
