import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestApp } from '../helpers/app.ts';
import { openLegacySession } from '../mcp/wire.ts';
import { signIn } from '../resource/fixtures.ts';

describe('one owner of shutdown: Portcullis.close()', () => {
  it('SHAPE-1 close() ends the MCP sessions it holds, then closes storage: no other close call is needed', async () => {
    const t = await createTestApp();
    const who = await signIn(t);
    await openLegacySession(t, who.auth);
    await openLegacySession(t, who.auth);
    assert.equal(t.mcp.sessionCount, 2);

    await t.close();
    assert.equal(t.mcp.sessionCount, 0, 'every MCP session ended');
    await assert.rejects(t.storage.users.byId(who.user.id), 'storage is closed');
  });

  it('SHAPE-1 close({ drain }) runs the runtime\'s drain after the MCP sessions ended and before storage closes; a second close is the same one', async () => {
    const t = await createTestApp();
    const who = await signIn(t);
    await openLegacySession(t, who.auth);
    const seen: string[] = [];
    const closing = t.close({
      drain: async () => {
        seen.push(`sessions=${t.mcp.sessionCount}`);
        // Storage is still open while in-flight requests finish.
        seen.push(`user=${(await t.storage.users.byId(who.user.id))?.id === who.user.id}`);
      },
    });
    assert.equal(t.close(), closing, 'idempotent: the same promise');
    await closing;
    assert.deepEqual(seen, ['sessions=0', 'user=true']);
  });
});
