import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initializeMessage, post as mcpPost } from '../mcp/wire.ts';
import { addClient, addCode, errorOf, redeem, refresh, setup } from './fixtures.ts';

describe('revoking a grant is one call (GrantStatus.revoke)', () => {
  it('SHAPE-4 SEC-34 one call revokes the grant in storage, ends its refresh token, and stops its cached access token at once', async () => {
    const t = await setup();
    try {
      const { client } = await addClient(t);
      const issued = await addCode(t, client);
      const tokens = await redeem(t, client, issued);
      const auth = { Authorization: `Bearer ${tokens.access_token}` };
      const before = await mcpPost(t, initializeMessage(), auth);
      assert.equal(before.status, 200, 'the access token works, and its verification is now cached');
      await before.body?.cancel();

      assert.equal(await t.ctx.grants.revoke(issued.grantId, t.clock.now()), true);

      assert.notEqual((await t.storage.grants.get(issued.grantId))?.revokedAt, null, 'revoked in storage');
      assert.equal((await mcpPost(t, initializeMessage(), auth)).status, 401, 'the cached access token is refused at once, not after the cache time');
      assert.equal((await errorOf(await refresh(t, client, tokens.refresh_token!))).error, 'invalid_grant', 'its refresh token no longer works');
      assert.equal(await t.ctx.grants.revoke(issued.grantId, t.clock.now()), false, 'a second revocation changes nothing');
    } finally {
      await t.close();
    }
  });
});
