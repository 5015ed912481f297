import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { contractRecords } from './records.ts';
import type { AuthorizationCodeRecord, ClientRecord, GrantRecord, RefreshTokenRecord, Storage } from '../../src/storage/types.ts';

/**
 * The storage contract for bounded growth and crash safety (HARD-7, HARD-8, HARD-9), run unchanged on
 * every backend: a fresh, empty, migrated store per suite.
 */
export function describeGrowthContract(backend: string, open: () => Promise<Storage>): void {
  describe(`storage contract, growth and crashes: ${backend}`, () => {
    let s: Storage;
    before(async () => {
      s = await open();
    });
    after(async () => {
      await s.close();
    });

    const NOW = 1_800_000_000_000;
    const HOUR = 3_600_000;
    const DAY = 24 * HOUR;
    const { id, client, grant, refresh, code } = contractRecords(NOW, ['tasks:read']);

    describe('HARD-9 code redemption is one atomic step', () => {
      it('HARD-9 SEC-16 redeem creates the grant and its first refresh token together, returns the grant, and marks the client used', async () => {
        const c = client();
        await s.clients.create(c);
        const k = code({ clientId: c.clientId });
        await s.authorizationCodes.create(k);
        const rt = { tokenHash: id('rt'), expiresAt: NOW + HOUR };
        const result = await s.authorizationCodes.redeem(k.codeHash, NOW, NOW + DAY, rt);
        assert.equal(result.status, 'ok');
        assert.ok(result.status === 'ok');
        assert.deepEqual(result.grant, await s.grants.get(k.grantId));
        assert.deepEqual(await s.refreshTokens.getWithGrant(rt.tokenHash), {
          token: { tokenHash: rt.tokenHash, grantId: k.grantId, clientId: c.clientId, scopes: k.scopes, issuedAt: NOW, expiresAt: rt.expiresAt, rotatedAt: null, successorHash: null },
          grant: result.grant,
        });
        assert.equal((await s.clients.get(c.clientId))?.lastGrantAt, NOW);
      });

      it('HARD-9 a code that allows no refresh token gets none, even when one is offered', async () => {
        const k = code({ issueRefreshToken: false });
        await s.authorizationCodes.create(k);
        const rt = { tokenHash: id('rt'), expiresAt: NOW + HOUR };
        assert.equal((await s.authorizationCodes.redeem(k.codeHash, NOW, NOW + DAY, rt)).status, 'ok');
        assert.equal(await s.refreshTokens.get(rt.tokenHash), null);
      });

      it('SEC-16 HARD-9 25 concurrent redemptions of one code, each offering its own first refresh token: one grant and exactly one token', async () => {
        const k = code();
        await s.authorizationCodes.create(k);
        const offered = Array.from({ length: 25 }, () => ({ tokenHash: id('rt'), expiresAt: NOW + HOUR }));
        const results = await Promise.all(offered.map((rt) => s.authorizationCodes.redeem(k.codeHash, NOW, NOW + DAY, rt)));
        assert.equal(results.filter((r) => r.status === 'ok').length, 1, 'one redemption wins');
        assert.equal(results.filter((r) => r.status === 'replayed').length, 24, 'every other one sees a replay');
        const stored = (await Promise.all(offered.map((rt) => s.refreshTokens.get(rt.tokenHash)))).filter((t) => t !== null);
        assert.equal(stored.length, 1, 'exactly one refresh token exists');
        assert.equal(stored[0]!.grantId, k.grantId);
        assert.equal(offered[results.findIndex((r) => r.status === 'ok')]!.tokenHash, stored[0]!.tokenHash, "it is the winner's");
      });

      it('HARD-9 fault injection: when the refresh token cannot be written, the code stays unused and no grant exists', async () => {
        // A row already holding the new token's hash makes the insert inside the redemption fail, as a
        // crash or a lost connection at that point would: nothing of the redemption may remain.
        const blocker = grant();
        await s.grants.create(blocker);
        const taken = refresh(blocker.id);
        await s.refreshTokens.create(taken);
        const k = code();
        await s.authorizationCodes.create(k);
        await assert.rejects(s.authorizationCodes.redeem(k.codeHash, NOW, NOW + DAY, { tokenHash: taken.tokenHash, expiresAt: NOW + HOUR }));
        assert.deepEqual(await s.authorizationCodes.peek(k.codeHash, NOW), { code: k, consumed: false }, 'the code is not spent');
        assert.equal(await s.grants.get(k.grantId), null, 'no grant without its refresh token');
        // The code still works once the fault is gone.
        const rt = { tokenHash: id('rt'), expiresAt: NOW + HOUR };
        assert.equal((await s.authorizationCodes.redeem(k.codeHash, NOW, NOW + DAY, rt)).status, 'ok');
        assert.equal((await s.refreshTokens.get(rt.tokenHash))?.grantId, k.grantId);
      });
    });

    describe('HARD-9 refresh retries across a restart', () => {
      const GRACE = 30_000;
      const WINDOW = 15 * 60_000;
      async function rotated(): Promise<{ g: GrantRecord; first: RefreshTokenRecord; second: RefreshTokenRecord }> {
        const g = grant();
        await s.grants.create(g);
        const first = refresh(g.id, { expiresAt: NOW + DAY });
        await s.refreshTokens.create(first);
        const second = refresh(g.id, { tokenHash: id('rt'), expiresAt: NOW + DAY });
        assert.equal((await s.refreshTokens.rotate({ tokenHash: first.tokenHash, successor: second, now: NOW, gracePeriodMs: GRACE })).status, 'rotated');
        return { g, first, second };
      }
      const retryAt = (t: { first: RefreshTokenRecord; second: RefreshTokenRecord }, now: number, startedAt: number) =>
        s.refreshTokens.rotate({ tokenHash: t.first.tokenHash, successor: t.second, now, gracePeriodMs: GRACE, startedAt, restartWindowMs: WINDOW });

      it('HARD-9 honest side: a rotation committed before a crash, retried within the grace period after a slow restart, is a retry', async () => {
        const t = await rotated();
        const startedAt = NOW + 5 * 60_000; // the server was down for five minutes
        const r = await retryAt(t, startedAt + 10_000, startedAt);
        assert.equal(r.status, 'retry');
        assert.equal((await s.grants.get(t.g.id))?.revokedAt, null);
      });

      it('HARD-9 attacker side: the same retry is reuse when it comes after the grace period following the start', async () => {
        const t = await rotated();
        const startedAt = NOW + 5 * 60_000;
        assert.deepEqual(await retryAt(t, startedAt + GRACE + 1, startedAt), { status: 'reused', grantId: t.g.id });
      });

      it('HARD-9 attacker side: reuse when the rotation happened longer than the restart window before the start', async () => {
        const t = await rotated();
        const startedAt = NOW + WINDOW + 1;
        assert.equal((await retryAt(t, startedAt + 1000, startedAt)).status, 'reused');
      });

      it('HARD-9 attacker side: reuse when the rotation happened after the start (no restart in between)', async () => {
        const t = await rotated();
        assert.equal((await retryAt(t, NOW + GRACE + 1, NOW - 1000)).status, 'reused');
      });

      it('HARD-9 attacker side: once the successor has been used, the spent token is no retry, restart or not', async () => {
        const t = await rotated();
        const startedAt = NOW + 60_000;
        const third = refresh(t.g.id, { tokenHash: id('rt') });
        assert.equal((await s.refreshTokens.rotate({ tokenHash: t.second.tokenHash, successor: third, now: startedAt + 1, gracePeriodMs: GRACE })).status, 'rotated');
        // Using the successor deleted `first` (HARD-8): the storage answers invalid, and the refresh
        // grant recognises the token by its family tag and revokes the grant (test/token/refresh-growth.test.ts).
        assert.equal((await retryAt(t, startedAt + 2, startedAt)).status, 'invalid');
      });

      it('SEC-35 a spent token presented many times at once after the grace period revokes the grant once; nothing is issued', async () => {
        const t = await rotated();
        const late = NOW + GRACE + 1;
        const results = await Promise.all(Array.from({ length: 10 }, () => s.refreshTokens.rotate({ tokenHash: t.first.tokenHash, successor: t.second, now: late, gracePeriodMs: GRACE })));
        assert.ok(results.some((r) => r.status === 'reused'), 'the reuse is detected');
        assert.deepEqual(results.filter((r) => r.status !== 'reused' && r.status !== 'invalid'), [], 'no rotation, no retry');
        assert.equal((await s.grants.get(t.g.id))?.revokedAt, late);
        assert.equal(await s.refreshTokens.get(t.second.tokenHash), null, 'the successor is gone with the grant');
        assert.equal(await s.refreshTokens.getWithGrant(t.first.tokenHash), null);
      });

      it('HARD-9 strict mode: with a grace period of 0 a restart extends nothing', async () => {
        const t = await rotated();
        const startedAt = NOW + 60_000;
        const r = await s.refreshTokens.rotate({ tokenHash: t.first.tokenHash, successor: t.second, now: startedAt + 1, gracePeriodMs: 0, startedAt, restartWindowMs: WINDOW });
        assert.equal(r.status, 'reused');
      });
    });

    describe('HARD-7 self-registered clients: cap, eviction and pruning', () => {
      it('HARD-7 the cap holds under concurrent registrations without counting the table; operator clients are never capped', async () => {
        const start = await s.clients.count('dcr');
        const cap = { max: start + 3, evictUnusedCreatedBefore: 0 };
        const results = await Promise.all(Array.from({ length: 12 }, () => s.clients.create(client(), cap)));
        assert.equal(results.filter(Boolean).length, 3, 'exactly the room left is taken');
        assert.equal(await s.clients.count('dcr'), start + 3);
        assert.equal(await s.clients.create(client({ source: 'cli' }), cap), true, 'an operator client is never refused');
        assert.equal(await s.clients.create(client(), cap), false);
        // Removing one makes room again: the counter follows removals.
        const [one] = (await s.clients.list()).filter((c) => c.source === 'dcr');
        assert.equal(await s.clients.remove(one!.clientId), true);
        assert.equal(await s.clients.create(client(), cap), true);
        assert.equal(await s.clients.create(client(), cap), false);
      });

      it('HARD-7 at the cap the oldest never-used client old enough makes room; used and young ones never do', async () => {
        const start = await s.clients.count('dcr');
        const oldUnused = client({ createdAt: NOW - 10 * HOUR });
        const olderButUsed = client({ createdAt: NOW - 20 * HOUR });
        await s.clients.create(oldUnused);
        await s.clients.create(olderButUsed);
        await s.grants.create(grant({ clientId: olderButUsed.clientId, createdAt: NOW - 19 * HOUR }));
        assert.equal((await s.clients.get(olderButUsed.clientId))?.lastGrantAt, NOW - 19 * HOUR, 'a grant marks its client used');
        const cap = { max: start + 2, evictUnusedCreatedBefore: NOW - HOUR };
        const pending = code({ clientId: oldUnused.clientId });
        await s.authorizationCodes.create(pending);

        const newcomer = client();
        assert.equal(await s.clients.create(newcomer, cap), true);
        assert.equal(await s.clients.get(oldUnused.clientId), null, 'the oldest never-used client made room');
        assert.equal(await s.authorizationCodes.peek(pending.codeHash, NOW), null, 'with everything issued to it');
        assert.notEqual(await s.clients.get(olderButUsed.clientId), null, 'a client that completed a grant stays');
        assert.equal(await s.clients.count('dcr'), start + 2);
        // Everyone left is used or younger than the eviction age: refused.
        assert.equal(await s.clients.create(client(), { ...cap, evictUnusedCreatedBefore: NOW - 30 * HOUR }), false);
      });

      it('HARD-7 prune removes never-used clients past their age and idle ones without a live grant, in batches; never operator clients', async () => {
        const unusedOld = client({ createdAt: NOW - 2 * DAY });
        const unusedYoung = client({ createdAt: NOW - HOUR });
        const idle = client({ createdAt: NOW - 90 * DAY });
        const idleWithLiveGrant = client({ createdAt: NOW - 90 * DAY });
        const operator = client({ source: 'cli', createdAt: NOW - 400 * DAY });
        for (const c of [unusedOld, unusedYoung, idle, idleWithLiveGrant, operator]) await s.clients.create(c);
        const extra = Array.from({ length: 7 }, () => client({ createdAt: NOW - 3 * DAY }));
        for (const c of extra) await s.clients.create(c);
        const deadGrant = grant({ clientId: idle.clientId, createdAt: NOW - 60 * DAY, expiresAt: NOW - 50 * DAY });
        await s.grants.create(deadGrant);
        const liveGrant = grant({ clientId: idleWithLiveGrant.clientId, createdAt: NOW - 60 * DAY, expiresAt: NOW + DAY });
        await s.grants.create(liveGrant);
        const countBefore = await s.clients.count('dcr');

        let pauses = 0;
        const removed = await s.clients.prune({
          now: NOW,
          unusedCreatedBefore: NOW - DAY,
          idleSince: NOW - 30 * DAY,
          batchSize: 3,
          pause: async () => void pauses++,
        });
        assert.equal(removed, 9, 'the old unused one, the seven extra and the idle one');
        assert.ok(pauses >= 2, `paused ${pauses} times between batches`);
        assert.equal(await s.clients.get(unusedOld.clientId), null);
        assert.equal(await s.clients.get(idle.clientId), null);
        assert.equal(await s.grants.get(deadGrant.id), null, 'with what was issued to it');
        assert.notEqual(await s.clients.get(unusedYoung.clientId), null);
        assert.notEqual(await s.clients.get(idleWithLiveGrant.clientId), null, 'a live grant keeps its client');
        assert.notEqual(await s.clients.get(operator.clientId), null, 'operator clients are never pruned');
        assert.equal(await s.clients.count('dcr'), countBefore - 9);
        // The counter followed: a cap of exactly the remaining count has no room, one more has.
        assert.equal(await s.clients.create(client(), { max: countBefore - 9, evictUnusedCreatedBefore: 0 }), false);
        assert.equal(await s.clients.create(client(), { max: countBefore - 8, evictUnusedCreatedBefore: 0 }), true);
      });
    });

    describe('HARD-8 the expiry sweep', () => {
      it('HARD-8 collectExpired deletes in bounded batches with a pause between them, and nothing live', async () => {
        const T = NOW + 400 * DAY; // later than every other row of this suite
        const g = grant({ expiresAt: T + DAY });
        await s.grants.create(g);
        const expired = Array.from({ length: 650 }, () => refresh(g.id, { expiresAt: T - 1 }));
        // Fifty at a time: over a network (D1) one at a time would take most of the suite's time.
        for (let i = 0; i < expired.length; i += 50) await Promise.all(expired.slice(i, i + 50).map((t) => s.refreshTokens.create(t)));
        const live = refresh(g.id, { expiresAt: T + HOUR });
        await s.refreshTokens.create(live);
        let pauses = 0;
        const removed = await s.collectExpired(T, { batchSize: 100, pause: async () => void pauses++ });
        assert.ok(removed >= 650, `removed ${removed}`);
        assert.ok(pauses >= 6, `paused ${pauses} times: 650 rows in batches of 100`);
        assert.equal(await s.refreshTokens.get(expired[0]!.tokenHash), null);
        assert.equal(await s.refreshTokens.get(expired[649]!.tokenHash), null);
        assert.notEqual(await s.refreshTokens.get(live.tokenHash), null);
        assert.notEqual(await s.grants.get(g.id), null);
        assert.equal(await s.collectExpired(T, { batchSize: 100, pause: async () => void pauses++ }), 0, 'a second sweep finds nothing');
      });
    });
  });
}
