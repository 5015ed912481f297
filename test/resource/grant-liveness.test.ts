import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalTokenVerifier } from '../../src/resource/verify-local.ts';
import { createTestApp } from '../helpers/app.ts';
import { signIn } from './fixtures.ts';

/**
 * The per-request grant check answers from its cache without a database read (and without a promise
 * chain) on a hit. What a hit may say is bounded: a revocation in this process is seen at once, one
 * made elsewhere (straight in storage, as another instance would) within the TTL (5 s).
 */
describe('Grant liveness on the authenticated request path', () => {
  it('ISSUE-10 SEC revocation in this process: a cached verification is refused on the very next request', async () => {
    const t = await createTestApp();
    const who = await signIn(t);
    const verifier = new LocalTokenVerifier(t.ctx);
    assert.equal((await verifier.verify(who.token)).ok, true);
    assert.equal(t.ctx.grants.cachedLiveness(who.grantId), true, 'the first request filled the cache');
    assert.equal((await verifier.verify(who.token)).ok, true, 'a hit');

    t.ctx.grants.markRevoked(who.grantId);
    assert.deepEqual(await verifier.verify(who.token), { ok: false, reason: 'grant_not_live' });
  });

  it('ISSUE-10 SEC revocation by another instance: seen after the liveness TTL, not before a database read', async () => {
    const t = await createTestApp();
    const who = await signIn(t);
    const verifier = new LocalTokenVerifier(t.ctx);
    assert.equal((await verifier.verify(who.token)).ok, true);
    // Another instance revokes: only storage changes, this process's cache does not know.
    assert.equal(await t.ctx.storage.grants.revoke(who.grantId, t.clock.now()), true);
    assert.equal((await verifier.verify(who.token)).ok, true, 'within the documented bound the cached liveness may still answer');

    t.clock.advance(5000);
    assert.equal(t.ctx.grants.cachedLiveness(who.grantId), undefined, 'past the TTL the cache does not answer');
    assert.deepEqual(await verifier.verify(who.token), { ok: false, reason: 'grant_not_live' });
    assert.equal(t.ctx.grants.cachedLiveness(who.grantId), false);
  });

  it('ISSUE-10 a cache hit returns the same frozen answer: nothing per request, and no caller can change it for the next', async () => {
    const t = await createTestApp();
    const who = await signIn(t, { scopes: ['tasks:read'] });
    const verifier = new LocalTokenVerifier(t.ctx);
    const first = await verifier.verify(who.token);
    const second = await verifier.verify(who.token);
    assert.equal(first, second);
    assert.ok(first.ok);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.token));
    assert.throws(() => {
      (first.token as { subject: string }).subject = 'someone-else';
    }, TypeError);
    assert.equal(first.token.subject, who.user.id);
    assert.equal('grantId' in first.token, false, 'the grant id stays inside the verifier');
  });
});
