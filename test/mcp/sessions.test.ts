import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { signIn } from '../resource/fixtures.ts';
import { inSession, initializeMessage, openLegacySession, post, rpcResult, toolCallMessage } from './wire.ts';

const listTools = { jsonrpc: '2.0', id: 9, method: 'tools/list' };

describe('2025-era MCP sessions (RS-22, RS-23)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ mcpSessionIdleTtl: 30 });
  });
  afterEach(() => t.close());

  const sessions = () => t.mcp;

  it('RS-22 session ids are unguessable: 256 random bits, never reused', async () => {
    const who = await signIn(t);
    const ids = [await openLegacySession(t, who.auth), await openLegacySession(t, who.auth)];
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(ids[0], ids[1]);
  });

  it("RS-23 another user's token with a session id gets 404, as if the session did not exist", async () => {
    const alice = await signIn(t, { username: 'alice' });
    const bob = await signIn(t, { username: 'bob' });
    const sessionId = await openLegacySession(t, alice.auth);
    const hijack = await post(t, toolCallMessage('list_tasks'), inSession(bob.auth, sessionId));
    assert.equal(hijack.status, 404);
    assert.equal(((await hijack.json()) as { error: { message: string } }).error.message, 'Session not found');
    const unknown = await post(t, listTools, inSession(bob.auth, 'no-such-session'));
    assert.equal(unknown.status, 404, 'indistinguishable from an unknown id');
    const own = await post(t, listTools, inSession(alice.auth, sessionId));
    assert.equal(own.status, 200, "the owner's session is untouched");
    await own.body?.cancel();
  });

  it('RS-22 the same user through another client gets 404 too: a session is bound to user and client', async () => {
    const viaA = await signIn(t, { username: 'alice' });
    const viaB = await signIn(t, { user: viaA.user });
    const sessionId = await openLegacySession(t, viaA.auth);
    assert.equal((await post(t, listTools, inSession(viaB.auth, sessionId))).status, 404);
  });

  it('RS-22 a session never stands in for authentication: once the grant is revoked, its session answers 401', async () => {
    const who = await signIn(t);
    const sessionId = await openLegacySession(t, who.auth);
    t.ctx.grants.markRevoked(who.grantId);
    assert.equal((await post(t, listTools, inSession(who.auth, sessionId))).status, 401);
  });

  it('RS-22 an idle session expires after mcpSessionIdleTtl: 404, and it is gone', async () => {
    const who = await signIn(t, { scopes: ['tasks:read'] });
    const sessionId = await openLegacySession(t, who.auth);
    assert.equal(sessions().sessionCount, 1);
    t.clock.advance(30_000);
    assert.equal((await post(t, listTools, inSession(who.auth, sessionId))).status, 404);
    assert.equal(sessions().sessionCount, 0);
  });

  it('activity keeps a session alive', async () => {
    const who = await signIn(t);
    const sessionId = await openLegacySession(t, who.auth);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(20_000);
      const response = await post(t, listTools, inSession(who.auth, sessionId));
      assert.equal(response.status, 200);
      await response.body?.cancel();
    }
  });

  it('the sweeper closes idle sessions without waiting for a request', async () => {
    const who = await signIn(t);
    await openLegacySession(t, who.auth);
    const active = await openLegacySession(t, who.auth);
    t.clock.advance(20_000);
    const touch = await post(t, listTools, inSession(who.auth, active));
    await touch.body?.cancel();
    t.clock.advance(10_000);
    assert.equal(await sessions().sweep(), 1);
    assert.equal(sessions().sessionCount, 1);
  });

  it('DELETE with the owner\'s token ends the session', async () => {
    const who = await signIn(t);
    const sessionId = await openLegacySession(t, who.auth);
    const deleted = await t.request('/mcp', { method: 'DELETE', headers: inSession(who.auth, sessionId) });
    assert.equal(deleted.status, 200);
    assert.equal(sessions().sessionCount, 0);
    assert.equal((await post(t, listTools, inSession(who.auth, sessionId))).status, 404);
  });

  it("DELETE with another user's token cannot end someone's session", async () => {
    const alice = await signIn(t, { username: 'alice' });
    const bob = await signIn(t, { username: 'bob' });
    const sessionId = await openLegacySession(t, alice.auth);
    assert.equal((await t.request('/mcp', { method: 'DELETE', headers: inSession(bob.auth, sessionId) })).status, 404);
    assert.equal(sessions().sessionCount, 1);
  });

  it('a 2025-era request without a session id that is not initialize gets 400', async () => {
    const who = await signIn(t);
    const response = await post(t, listTools, who.auth);
    assert.equal(response.status, 400);
    assert.equal((await rpcResult(response)).error?.code, -32000);
  });

  it('one user holds at most 32 sessions: opening another closes their least recently used one', async () => {
    const who = await signIn(t);
    const other = await signIn(t);
    const othersSession = await openLegacySession(t, other.auth);
    const ids: string[] = [];
    for (let i = 0; i < 33; i++) {
      t.clock.advance(10);
      ids.push(await openLegacySession(t, who.auth));
    }
    assert.equal(sessions().sessionCount, 33, "32 of theirs and the other user's one");
    assert.equal((await post(t, listTools, inSession(who.auth, ids[0]!))).status, 404);
    const newest = await post(t, listTools, inSession(who.auth, ids[32]!));
    assert.equal(newest.status, 200);
    await newest.body?.cancel();
    const others = await post(t, listTools, inSession(other.auth, othersSession));
    assert.equal(others.status, 200, "another user's sessions are never evicted for it");
    await others.body?.cancel();
  });

  it('close() ends every session (graceful shutdown)', async () => {
    const who = await signIn(t);
    await openLegacySession(t, who.auth);
    await openLegacySession(t, who.auth);
    await t.close();
    assert.equal(sessions().sessionCount, 0);
  });

  it('a failed initialize leaves no session behind', async () => {
    const who = await signIn(t);
    const response = await post(t, { ...initializeMessage(), params: { protocolVersion: 42 } }, who.auth);
    assert.notEqual(response.status, 200);
    assert.equal(sessions().sessionCount, 0);
  });
});
