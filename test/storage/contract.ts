import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { contractRecords } from './records.ts';
import type { AuthorizationCodeRecord, ClientRecord, GrantRecord, RefreshTokenRecord, SigningKeyRecord, Storage, UpstreamTransactionRecord } from '../../src/storage/types.ts';

/**
 * A backend many instances can share (a PostgreSQL schema, a SQLite file): `fresh()` makes a new empty
 * database and returns how to open one more instance on it; `drop()` removes what `fresh()` made.
 */
export interface SharedDatabase {
  fresh(): Promise<() => Promise<Storage>>;
  drop?(): Promise<void>;
}

/** Instances on one database, each with its own connections: what a deployment of several servers does. */
function describeSharedDatabaseContract(backend: string, shared: SharedDatabase): void {
  describe(`storage contract, shared by instances: ${backend}`, () => {
    after(async () => {
      await shared.drop?.();
    });

    it('HARD-6 three instances starting together on an empty database add exactly one signing key, every time', async () => {
      const outcomes: string[] = [];
      for (let round = 0; round < 3; round++) {
        const open = await shared.fresh();
        const instances = await Promise.all([open(), open(), open()]);
        try {
          const added = await Promise.all(
            instances.map((s, i) =>
              s.signingKeys.addIfNoneActive({ kid: `kid-${round}-${i}`, alg: 'ES256', privateJwk: '{}', publicJwk: '{}', createdAt: i, retiredAt: null, publishUntil: null }),
            ),
          );
          const active = (await instances[0]!.signingKeys.list()).filter((k) => k.retiredAt === null);
          outcomes.push(`${added.filter(Boolean).length} added, ${active.length} active`);
        } finally {
          await Promise.all(instances.map((s) => s.close()));
        }
      }
      assert.deepEqual(outcomes, Array(3).fill('1 added, 1 active'));
    });

    it('SEC-48 three instances counting one rate-limit key together count every hit once', async () => {
      const open = await shared.fresh();
      const instances = await Promise.all([open(), open(), open()]);
      try {
        const counts = await Promise.all(Array.from({ length: 30 }, (_, i) => instances[i % 3]!.rateLimits.hit('rl:shared', 60_000, 1_000)));
        assert.deepEqual(counts.map((w) => w.count).sort((x, y) => x - y), Array.from({ length: 30 }, (_, i) => i + 1));
      } finally {
        await Promise.all(instances.map((s) => s.close()));
      }
    });
  });
}

/**
 * The storage contract suite. Every backend runs it unchanged: call it with a factory that returns a
 * fresh, empty, migrated store. Concurrency cases fire many operations at once and require exactly one
 * winner, which is what makes single-use codes and refresh rotation safe.
 */
export function describeStorageContract(backend: string, open: () => Promise<Storage>, shared?: SharedDatabase): void {
  if (shared) describeSharedDatabaseContract(backend, shared);
  describe(`storage contract: ${backend}`, () => {
    let s: Storage;
    before(async () => {
      s = await open();
    });
    after(async () => {
      await s.close();
    });

    const NOW = 1_800_000_000_000;
    const { id, client, grant, refresh, code } = contractRecords(NOW);

    it('users: create, find by id and name, list, count, change password', async () => {
      await s.users.create({ id: 'u-a', username: 'alice', passwordHash: 'h1', isAdmin: true, createdAt: NOW });
      await s.users.create({ id: 'u-b', username: 'bob', passwordHash: 'h2', isAdmin: false, createdAt: NOW + 1 });
      assert.equal((await s.users.byUsername('alice'))?.id, 'u-a');
      assert.equal((await s.users.byId('u-b'))?.isAdmin, false);
      assert.equal(await s.users.byUsername('carol'), null);
      assert.deepEqual((await s.users.list()).map((u) => u.username), ['alice', 'bob']);
      assert.equal(await s.users.count(), 2);
      await s.users.setPassword('u-b', 'h3');
      assert.equal((await s.users.byId('u-b'))?.passwordHash, 'h3');
      await assert.rejects(s.users.create({ id: 'u-c', username: 'alice', passwordHash: 'h', isAdmin: false, createdAt: NOW }), 'usernames are unique');
    });

    it('users: groups are set as a whole, listed sorted, refused for an unknown user, and removed with the user', async () => {
      await s.users.create({ id: 'u-grp', username: 'grouped', passwordHash: 'h', isAdmin: false, createdAt: NOW });
      assert.deepEqual(await s.users.groups('u-grp'), []);
      assert.equal(await s.users.setGroups('u-grp', ['ops', 'admins', 'ops']), true);
      assert.deepEqual(await s.users.groups('u-grp'), ['admins', 'ops']);
      assert.equal(await s.users.setGroups('u-grp', ['staff']), true);
      assert.deepEqual(await s.users.groups('u-grp'), ['staff'], 'replaced, not added to');
      assert.equal(await s.users.setGroups('u-nobody', ['admins']), false);
      assert.deepEqual(await s.users.groups('u-nobody'), []);
      assert.equal(await s.users.remove('u-grp'), true);
      assert.deepEqual(await s.users.groups('u-grp'), []);
    });

    it('users: removing a user removes their grants, tokens, consents, sessions and tasks', async () => {
      await s.users.create({ id: 'u-gone', username: 'gone', passwordHash: 'h', isAdmin: false, createdAt: NOW });
      const g = grant({ userId: 'u-gone' });
      await s.grants.create(g);
      const rt = refresh(g.id);
      await s.refreshTokens.create(rt);
      await s.consents.remember('u-gone', 'client-x', ['tasks:read'], NOW);
      await s.loginSessions.create({ idHash: 'sess-gone', userId: 'u-gone', csrfSecret: 'x', createdAt: NOW, expiresAt: NOW + 1000 });
      await s.tasks.create({ id: 't-gone', userId: 'u-gone', title: 'x', done: false, createdAt: NOW, completedAt: null });
      assert.equal(await s.users.remove('u-gone'), true);
      assert.equal(await s.users.byId('u-gone'), null);
      assert.equal(await s.grants.get(g.id), null);
      assert.equal(await s.refreshTokens.get(rt.tokenHash), null);
      assert.equal(await s.consents.get('u-gone', 'client-x'), null);
      assert.equal(await s.loginSessions.get('sess-gone', NOW), null);
      assert.deepEqual(await s.tasks.list('u-gone'), []);
      assert.equal(await s.users.remove('u-gone'), false);
    });

    it('clients: create, get, find by metadata hash, count by source, remove revokes what was issued', async () => {
      const c = client({ metadataHash: 'meta-1', redirectUris: ['cursor://anysphere.cursor-mcp/oauth/callback', 'http://localhost/cb'] });
      await s.clients.create(c);
      assert.deepEqual(await s.clients.get(c.clientId), c);
      assert.equal((await s.clients.byMetadataHash('meta-1'))?.clientId, c.clientId);
      assert.equal(await s.clients.byMetadataHash('meta-none'), null);
      const before = await s.clients.count('cli');
      await s.clients.create(client({ source: 'cli', secretHash: 'sh', tokenEndpointAuthMethod: 'client_secret_basic' }));
      assert.equal(await s.clients.count('cli'), before + 1);
      const g = grant({ clientId: c.clientId });
      await s.grants.create(g);
      await s.refreshTokens.create(refresh(g.id, { clientId: c.clientId }));
      assert.equal(await s.clients.remove(c.clientId), true);
      assert.equal(await s.clients.get(c.clientId), null);
      assert.equal(await s.grants.get(g.id), null);
      assert.equal(await s.clients.remove(c.clientId), false);
    });

    it('SEC-29 clients: public keys of private_key_jwt clients, inline or by URL, round-trip', async () => {
      const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }] };
      const inline = client({ source: 'cli', tokenEndpointAuthMethod: 'private_key_jwt', jwks });
      const byUrl = client({ source: 'cli', tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'https://client.example/jwks.json' });
      await s.clients.create(inline);
      await s.clients.create(byUrl);
      assert.deepEqual(await s.clients.get(inline.clientId), inline);
      assert.deepEqual(await s.clients.get(byUrl.clientId), byUrl);
    });

    it('SEC-29/EMA-06 used assertions: a jti is accepted once until it expires, once under concurrency, then collected', async () => {
      assert.equal(await s.usedAssertions.markUsed('jti-a', NOW + 60_000, NOW), true);
      assert.equal(await s.usedAssertions.markUsed('jti-a', NOW + 60_000, NOW + 1), false, 'a replay is refused');
      assert.equal(await s.usedAssertions.markUsed('jti-a', NOW + 120_000, NOW + 59_999), false, 'still refused just before it expires');
      assert.equal(await s.usedAssertions.markUsed('jti-a', NOW + 200_000, NOW + 60_000), true, 'usable again once the earlier use expired');
      assert.equal(await s.usedAssertions.markUsed('jti-a', NOW + 200_000, NOW + 60_001), false, 'and the new use counts');

      const results = await Promise.all(Array.from({ length: 20 }, () => s.usedAssertions.markUsed('jti-race', NOW + 60_000, NOW)));
      assert.equal(results.filter(Boolean).length, 1, 'exactly one concurrent use wins');

      await s.usedAssertions.markUsed('jti-old', NOW + 10, NOW);
      assert.ok((await s.collectExpired(NOW + 100_000)) >= 1);
      assert.equal(await s.usedAssertions.markUsed('jti-old', NOW + 200_000, NOW + 100_000), true, 'collected');
    });

    it('authorization requests: taken once, and not after they expire', async () => {
      const req = {
        id: id('req'),
        clientId: 'client-x',
        redirectUri: 'http://127.0.0.1/callback',
        state: 's',
        scopes: ['tasks:read'],
        resource: 'http://localhost/mcp',
        codeChallenge: 'c'.repeat(43),
        nonce: null,
        prompt: null,
        createdAt: NOW,
        expiresAt: NOW + 600_000,
      };
      await s.authorizationRequests.create(req);
      assert.deepEqual(await s.authorizationRequests.get(req.id, NOW), req);
      const takers = await Promise.all(Array.from({ length: 10 }, () => s.authorizationRequests.take(req.id, NOW)));
      assert.equal(takers.filter(Boolean).length, 1, 'exactly one taker wins');
      const late = { ...req, id: id('req') };
      await s.authorizationRequests.create(late);
      assert.equal(await s.authorizationRequests.get(late.id, late.expiresAt), null);
      assert.equal(await s.authorizationRequests.take(late.id, late.expiresAt), null);
    });

    it('SEC-16 authorization codes: exactly one of many concurrent redemptions wins and creates the grant; later ones see a replay', async () => {
      const c = code();
      await s.authorizationCodes.create(c);
      const grantExpiresAt = NOW + 86_400_000;
      const results = await Promise.all(Array.from({ length: 20 }, () => s.authorizationCodes.redeem(c.codeHash, NOW, grantExpiresAt)));
      assert.equal(results.filter((r) => r.status === 'ok').length, 1);
      assert.equal(results.filter((r) => r.status === 'replayed').length, 19);
      const ok = results.find((r) => r.status === 'ok');
      assert.ok(ok && ok.status === 'ok');
      assert.deepEqual(ok.code, c);
      // The grant exists as soon as the code is spent, so every replay finds something to revoke.
      assert.deepEqual(await s.grants.get(c.grantId), {
        id: c.grantId,
        userId: c.userId,
        clientId: c.clientId,
        scopes: c.scopes,
        resource: c.resource,
        createdAt: NOW,
        expiresAt: grantExpiresAt,
        revokedAt: null,
      });
      assert.equal((await s.authorizationCodes.redeem('unknown', NOW, grantExpiresAt)).status, 'invalid');
    });

    it('SEC-15 authorization codes: peek reads without spending; an expired unused code is gone, a spent one still recognised', async () => {
      const c = code();
      await s.authorizationCodes.create(c);
      assert.deepEqual(await s.authorizationCodes.peek(c.codeHash, NOW), { code: c, consumed: false });
      assert.deepEqual(await s.authorizationCodes.peek(c.codeHash, NOW), { code: c, consumed: false }, 'peeking spends nothing');
      assert.equal(await s.authorizationCodes.peek(c.codeHash, c.expiresAt), null);
      assert.equal((await s.authorizationCodes.redeem(c.codeHash, c.expiresAt, NOW + 1)).status, 'invalid');
      assert.equal(await s.grants.get(c.grantId), null, 'no grant for an expired code');
      const spent = code();
      await s.authorizationCodes.create(spent);
      await s.authorizationCodes.redeem(spent.codeHash, NOW, NOW + 1000);
      assert.deepEqual(await s.authorizationCodes.peek(spent.codeHash, spent.expiresAt + 1), { code: spent, consumed: true }, 'a replay after expiry is still a replay');
    });

    it('RFC 9449 DPoP bindings round-trip: a client that must use DPoP, dpop_jkt on requests and codes, a grant bound to a key at redemption', async () => {
      const jkt = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
      const bound = client({ dpopBoundAccessTokens: true });
      await s.clients.create(bound);
      assert.deepEqual(await s.clients.get(bound.clientId), bound);
      const req = { id: id('req'), clientId: bound.clientId, redirectUri: 'http://127.0.0.1/callback', state: null, scopes: ['tasks:read'], resource: 'http://localhost/mcp', codeChallenge: 'c'.repeat(43), nonce: null, prompt: null, createdAt: NOW, expiresAt: NOW + 600_000, dpopJkt: jkt };
      await s.authorizationRequests.create(req);
      assert.deepEqual(await s.authorizationRequests.take(req.id, NOW), req);

      const c = { ...code(), dpopJkt: jkt };
      await s.authorizationCodes.create(c);
      assert.deepEqual(await s.authorizationCodes.peek(c.codeHash, NOW), { code: c, consumed: false });
      const rt = { tokenHash: id('rt'), expiresAt: NOW + 3_600_000 };
      const redeemed = await s.authorizationCodes.redeem(c.codeHash, NOW, NOW + 86_400_000, rt, jkt);
      assert.ok(redeemed.status === 'ok');
      assert.equal(redeemed.grant.dpopJkt, jkt);
      assert.equal((await s.grants.get(c.grantId))?.dpopJkt, jkt);
      assert.equal((await s.refreshTokens.getWithGrant(rt.tokenHash))?.grant.dpopJkt, jkt, 'the refresh path reads the binding with the grant');

      const unbound = code();
      await s.authorizationCodes.create(unbound);
      const plain = await s.authorizationCodes.redeem(unbound.codeHash, NOW, NOW + 86_400_000, null);
      assert.ok(plain.status === 'ok');
      assert.equal(plain.grant.dpopJkt, undefined);
      assert.equal((await s.grants.get(unbound.grantId))?.dpopJkt, undefined, 'a grant redeemed without a key stays unbound');
    });

    it('grants: revoking a grant revokes its refresh tokens and reports whether anything changed', async () => {
      const g = grant();
      await s.grants.create(g);
      const rt = refresh(g.id);
      await s.refreshTokens.create(rt);
      assert.equal(await s.grants.revoke(g.id, NOW + 5), true);
      assert.equal((await s.grants.get(g.id))?.revokedAt, NOW + 5);
      assert.equal(await s.refreshTokens.get(rt.tokenHash), null);
      assert.equal(await s.grants.revoke(g.id, NOW + 6), false);
      assert.equal(await s.grants.revoke('no-such-grant', NOW), false);
      const mine = grant({ userId: 'u-list' });
      await s.grants.create(mine);
      assert.deepEqual((await s.grants.listForUser('u-list')).map((x) => x.id), [mine.id]);
    });

    it('issue 12 grants: a user\'s live grants with their last use and whether a refresh token keeps them connected', async () => {
      const refreshed = grant({ userId: 'u-act', createdAt: NOW });
      const codeOnly = grant({ userId: 'u-act', createdAt: NOW + 1 });
      const revoked = grant({ userId: 'u-act' });
      const expired = grant({ userId: 'u-act', expiresAt: NOW + 10 });
      for (const g of [refreshed, codeOnly, revoked, expired]) await s.grants.create(g);
      await s.grants.revoke(revoked.id, NOW);
      const first = refresh(refreshed.id, { issuedAt: NOW, expiresAt: NOW + 100_000 });
      await s.refreshTokens.create(first);
      const next = refresh(refreshed.id, { tokenHash: id('rt'), issuedAt: NOW + 5000, expiresAt: NOW + 105_000 });
      assert.equal((await s.refreshTokens.rotate({ tokenHash: first.tokenHash, successor: next, now: NOW + 5000, gracePeriodMs: 0 })).status, 'rotated');
      const activity = await s.grants.activityForUser('u-act', NOW + 20);
      assert.deepEqual(
        activity.map((a) => [a.grant.id, a.lastUsedAt, a.refreshableUntil]),
        [
          [refreshed.id, NOW + 5000, NOW + 105_000],
          [codeOnly.id, NOW + 1, null],
        ],
      );
      assert.deepEqual(await s.grants.activityForUser('u-nobody', NOW), []);
    });

    it('issue 12 grants for administration: live ones listed by user and client, counted by client, revoked per user with their tokens', async () => {
      const a1 = grant({ userId: 'u-adm-a', clientId: 'client-adm-1' });
      const a2 = grant({ userId: 'u-adm-a', clientId: 'client-adm-2', createdAt: NOW + 1 });
      const b1 = grant({ userId: 'u-adm-b', clientId: 'client-adm-1', createdAt: NOW + 2 });
      const gone = grant({ userId: 'u-adm-a', clientId: 'client-adm-1', expiresAt: NOW + 10 });
      for (const g of [a1, a2, b1, gone]) await s.grants.create(g);
      const rt = refresh(a1.id, { clientId: 'client-adm-1' });
      await s.refreshTokens.create(rt);
      const ids = (list: { id: string }[]) => list.map((g) => g.id);
      const now = NOW + 100;
      assert.deepEqual(ids(await s.grants.listLive({ now, userId: 'u-adm-a' })), [a1.id, a2.id], 'the expired grant is not live');
      assert.deepEqual(ids(await s.grants.listLive({ now, clientId: 'client-adm-1' })), [a1.id, b1.id]);
      assert.deepEqual(ids(await s.grants.listLive({ now, userId: 'u-adm-a', clientId: 'client-adm-2' })), [a2.id]);
      assert.deepEqual(ids(await s.grants.listLive({ now, clientId: 'client-adm-1', limit: 1 })), [a1.id]);
      const counts = await s.grants.liveCountByClient(now);
      assert.equal(counts.get('client-adm-1'), 2);
      assert.equal(counts.get('client-adm-2'), 1);
      assert.deepEqual((await s.grants.revokeForUser('u-adm-a', now)).sort(), [a1.id, a2.id, gone.id].sort());
      assert.equal(await s.refreshTokens.get(rt.tokenHash), null, 'their refresh tokens are gone');
      assert.equal((await s.grants.get(a2.id))?.revokedAt, now);
      assert.deepEqual(ids(await s.grants.listLive({ now, userId: 'u-adm-a' })), []);
      assert.deepEqual(ids(await s.grants.listLive({ now, userId: 'u-adm-b' })), [b1.id], "another user's grant stays");
      assert.deepEqual(await s.grants.revokeForUser('u-adm-a', now), [], 'nothing left to revoke');
    });

    it('RFC 9449 §5 an unbound grant is bound to a DPoP key once: the same key again is fine, another key, a revoked or unknown grant is not', async () => {
      const jkt = 'a'.repeat(43);
      const g = grant({ userId: 'u-dpop', clientId: 'client-dpop' });
      await s.grants.create(g);
      assert.equal(await s.grants.bindDpopKey(g.id, jkt), true);
      assert.equal((await s.grants.get(g.id))?.dpopJkt, jkt);
      assert.equal(await s.grants.bindDpopKey(g.id, jkt), true, 'a retry with the same key');
      assert.equal(await s.grants.bindDpopKey(g.id, 'b'.repeat(43)), false, 'another key');
      assert.equal((await s.grants.get(g.id))?.dpopJkt, jkt, 'unchanged');
      const revoked = grant({ userId: 'u-dpop', clientId: 'client-dpop', createdAt: NOW + 1 });
      await s.grants.create(revoked);
      await s.grants.revoke(revoked.id, NOW + 2);
      assert.equal(await s.grants.bindDpopKey(revoked.id, jkt), false, 'revoked');
      assert.equal(await s.grants.bindDpopKey('no-such-grant', jkt), false, 'unknown');
    });

    it('issue 12 users: made and unmade administrator', async () => {
      await s.users.create({ id: 'u-role', username: 'role', passwordHash: 'h', isAdmin: false, createdAt: NOW });
      assert.equal(await s.users.setAdmin('u-role', true), true);
      assert.equal((await s.users.byId('u-role'))?.isAdmin, true);
      assert.equal(await s.users.setAdmin('u-role', false), true);
      assert.equal((await s.users.byId('u-role'))?.isAdmin, false);
      assert.equal(await s.users.setAdmin('u-no-such', true), false);
    });

    it('refresh token with its grant in one read: both records, or null when either is missing or the grant was revoked', async () => {
      const g = grant({ scopes: ['tasks:read', 'tasks:write'] });
      await s.grants.create(g);
      const rt = refresh(g.id, { scopes: g.scopes });
      await s.refreshTokens.create(rt);
      assert.deepEqual(await s.refreshTokens.getWithGrant(rt.tokenHash), { token: rt, grant: g });
      assert.equal(await s.refreshTokens.getWithGrant('unknown'), null);
      const orphan = refresh('no-such-grant');
      await s.refreshTokens.create(orphan);
      assert.equal(await s.refreshTokens.getWithGrant(orphan.tokenHash), null);
      await s.grants.revoke(g.id, NOW);
      assert.equal(await s.refreshTokens.getWithGrant(rt.tokenHash), null, 'revoking a grant deletes its refresh tokens');
    });

    it('SEC-35 refresh rotation: the old token is spent, the successor works, reuse after the grace period revokes the grant', async () => {
      const g = grant();
      await s.grants.create(g);
      const first = refresh(g.id);
      await s.refreshTokens.create(first);
      const second = refresh(g.id, { tokenHash: id('rt') });
      const r1 = await s.refreshTokens.rotate({ tokenHash: first.tokenHash, successor: second, now: NOW + 1000, gracePeriodMs: 0 });
      assert.equal(r1.status, 'rotated');
      assert.ok(r1.status === 'rotated' && r1.grant.id === g.id);
      assert.equal((await s.refreshTokens.get(second.tokenHash))?.rotatedAt, null);
      const reused = await s.refreshTokens.rotate({ tokenHash: first.tokenHash, successor: second, now: NOW + 2000, gracePeriodMs: 0 });
      assert.deepEqual(reused, { status: 'reused', grantId: g.id });
      assert.notEqual((await s.grants.get(g.id))?.revokedAt, null);
      assert.equal(await s.refreshTokens.get(second.tokenHash), null, 'the successor dies with the grant');
    });

    it('SEC-38 refresh rotation: a retry within the grace period gets the same successor; concurrent rotations agree', async () => {
      const g = grant();
      await s.grants.create(g);
      const first = refresh(g.id);
      await s.refreshTokens.create(first);
      const successor = refresh(g.id, { tokenHash: id('rt') });
      const results = await Promise.all(
        Array.from({ length: 8 }, () => s.refreshTokens.rotate({ tokenHash: first.tokenHash, successor, now: NOW + 1000, gracePeriodMs: 30_000 })),
      );
      assert.equal(results.filter((r) => r.status === 'rotated').length, 1);
      assert.equal(results.filter((r) => r.status === 'retry').length, 7);
      const late = await s.refreshTokens.rotate({ tokenHash: first.tokenHash, successor, now: NOW + 1000 + 30_001, gracePeriodMs: 30_000 });
      assert.equal(late.status, 'reused');
    });

    it('refresh rotation: rotations started together each get their own answer, and one that fails is undone alone', async () => {
      const grants = [grant(), grant(), grant()];
      for (const g of grants) await s.grants.create(g);
      const tokens = grants.map((g) => refresh(g.id));
      for (const t of tokens) await s.refreshTokens.create(t);
      const bystander = refresh(grants[1]!.id);
      await s.refreshTokens.create(bystander);
      const successors = [refresh(grants[0]!.id, { tokenHash: id('rt') }), bystander, refresh(grants[2]!.id, { tokenHash: id('rt') })];
      // The middle one's successor collides with a stored token (its key), so its INSERT fails after its UPDATE spent the token.
      const settled = await Promise.allSettled(
        tokens.map((t, i) => s.refreshTokens.rotate({ tokenHash: t.tokenHash, successor: successors[i]!, now: NOW + 1000, gracePeriodMs: 0, grant: grants[i]! })),
      );
      assert.deepEqual(settled[0], { status: 'fulfilled', value: { status: 'rotated', grant: grants[0] } });
      assert.equal(settled[1]!.status, 'rejected');
      assert.deepEqual(settled[2], { status: 'fulfilled', value: { status: 'rotated', grant: grants[2] } });
      assert.equal((await s.refreshTokens.get(tokens[1]!.tokenHash))?.rotatedAt, null, 'the failed rotation did not spend its token');
      assert.equal((await s.refreshTokens.get(tokens[0]!.tokenHash))?.rotatedAt, NOW + 1000);
      assert.equal((await s.refreshTokens.get(successors[2]!.tokenHash))?.rotatedAt, null, 'the rotation after the failure kept its successor');
      // The failed one can be retried with a good successor.
      const again = await s.refreshTokens.rotate({ tokenHash: tokens[1]!.tokenHash, successor: refresh(grants[1]!.id, { tokenHash: id('rt') }), now: NOW + 2000, gracePeriodMs: 0 });
      assert.equal(again.status, 'rotated');
    });

    it('refresh rotation: a different successor or a used successor is reuse, not a retry', async () => {
      const g = grant();
      await s.grants.create(g);
      const first = refresh(g.id);
      await s.refreshTokens.create(first);
      const successor = refresh(g.id, { tokenHash: id('rt') });
      await s.refreshTokens.rotate({ tokenHash: first.tokenHash, successor, now: NOW, gracePeriodMs: 30_000 });
      const third = refresh(g.id, { tokenHash: id('rt') });
      await s.refreshTokens.rotate({ tokenHash: successor.tokenHash, successor: third, now: NOW + 10, gracePeriodMs: 30_000 });
      const fourth = refresh(g.id, { tokenHash: id('rt') });
      const other = await s.refreshTokens.rotate({ tokenHash: successor.tokenHash, successor: fourth, now: NOW + 20, gracePeriodMs: 30_000 });
      assert.equal(other.status, 'reused', 'a retry must ask for the successor the token was rotated to');
      assert.notEqual((await s.grants.get(g.id))?.revokedAt, null);
    });

    it('HARD-8 refresh rotation: a grant keeps only its live token and the one it replaced, however often it refreshes', async () => {
      const g = grant();
      await s.grants.create(g);
      const chain = [refresh(g.id)];
      await s.refreshTokens.create(chain[0]!);
      for (let i = 1; i <= 20; i++) {
        const next = refresh(g.id, { tokenHash: id('rt') });
        const r = await s.refreshTokens.rotate({ tokenHash: chain[i - 1]!.tokenHash, successor: next, now: NOW + i * 1000, gracePeriodMs: 30_000 });
        assert.equal(r.status, 'rotated');
        chain.push(next);
      }
      const stored = (await Promise.all(chain.map((t) => s.refreshTokens.get(t.tokenHash)))).filter((t) => t !== null);
      assert.deepEqual(
        stored.map((t) => t.tokenHash),
        chain.slice(-2).map((t) => t.tokenHash),
        'after 20 refreshes the grant has two rows: the live token and its predecessor',
      );
      // The predecessor still answers a retry with the same successor…
      const retry = await s.refreshTokens.rotate({ tokenHash: chain[19]!.tokenHash, successor: chain[20]!, now: NOW + 20_500, gracePeriodMs: 30_000 });
      assert.equal(retry.status, 'retry');
      // …an older spent token is unknown to the storage: the refresh grant recognises it by its family
      // tag and revokes the grant (test/token/refresh-growth.test.ts).
      const old = await s.refreshTokens.rotate({ tokenHash: chain[3]!.tokenHash, successor: chain[4]!, now: NOW + 20_600, gracePeriodMs: 30_000 });
      assert.equal(old.status, 'invalid');
      assert.equal((await s.grants.get(g.id))?.revokedAt, null);
    });

    it('SEC-37 refresh rotation: expired tokens and tokens of revoked or expired grants are invalid', async () => {
      const g = grant({ expiresAt: NOW + 10_000 });
      await s.grants.create(g);
      const idle = refresh(g.id, { expiresAt: NOW + 100 });
      await s.refreshTokens.create(idle);
      const next = refresh(g.id, { tokenHash: id('rt') });
      assert.equal((await s.refreshTokens.rotate({ tokenHash: idle.tokenHash, successor: next, now: NOW + 100, gracePeriodMs: 0 })).status, 'invalid');
      const live = refresh(g.id);
      await s.refreshTokens.create(live);
      assert.equal((await s.refreshTokens.rotate({ tokenHash: live.tokenHash, successor: next, now: NOW + 10_000, gracePeriodMs: 0 })).status, 'invalid');
      assert.equal((await s.refreshTokens.rotate({ tokenHash: 'unknown', successor: next, now: NOW, gracePeriodMs: 0 })).status, 'invalid');
    });

    it('issue 10 SEC-37 refresh rotation given the grant already read: the grant is re-checked in the rotation, not re-read; a grant that ended since changes nothing', async () => {
      const g = grant({ expiresAt: NOW + 10_000 });
      await s.grants.create(g);
      const live = refresh(g.id);
      await s.refreshTokens.create(live);
      const read = await s.refreshTokens.getWithGrant(live.tokenHash);
      assert.ok(read);
      const next = refresh(g.id, { tokenHash: id('rt') });
      // The grant reached its lifetime between the read and the rotation.
      const late = await s.refreshTokens.rotate({ tokenHash: live.tokenHash, successor: next, now: NOW + 10_000, gracePeriodMs: 0, grant: read.grant });
      assert.equal(late.status, 'invalid');
      assert.equal((await s.refreshTokens.get(live.tokenHash))?.rotatedAt, null, 'the token was not spent');
      assert.equal(await s.refreshTokens.get(next.tokenHash), null, 'no successor was stored');
      const inTime = await s.refreshTokens.rotate({ tokenHash: live.tokenHash, successor: next, now: NOW + 1000, gracePeriodMs: 0, grant: read.grant });
      assert.deepEqual(inTime, { status: 'rotated', grant: g });
      assert.equal((await s.refreshTokens.get(live.tokenHash))?.rotatedAt, NOW + 1000);
      // A grant passed for another token's grant is not taken for this one's: it is read.
      const other = grant();
      await s.grants.create(other);
      const third = refresh(g.id, { tokenHash: id('rt') });
      const mixed = await s.refreshTokens.rotate({ tokenHash: next.tokenHash, successor: third, now: NOW + 2000, gracePeriodMs: 0, grant: other });
      assert.deepEqual(mixed, { status: 'rotated', grant: g });
      // Revoked after the read: the rotation finds nothing to spend (revoking deleted the tokens).
      const before = await s.refreshTokens.getWithGrant(third.tokenHash);
      await s.grants.revoke(g.id, NOW + 3000);
      const revoked = await s.refreshTokens.rotate({ tokenHash: third.tokenHash, successor: refresh(g.id, { tokenHash: id('rt') }), now: NOW + 3000, gracePeriodMs: 0, grant: before!.grant });
      assert.equal(revoked.status, 'invalid');
    });

    it('consents: remembered as the union of what was granted, per user and client', async () => {
      await s.consents.remember('u-c', 'client-c', ['tasks:read'], NOW);
      await s.consents.remember('u-c', 'client-c', ['tasks:write', 'tasks:read'], NOW + 1);
      assert.deepEqual((await s.consents.get('u-c', 'client-c'))?.scopes, ['tasks:read', 'tasks:write']);
      assert.equal(await s.consents.get('u-c', 'client-other'), null);
      await s.consents.forget('u-c', 'client-c');
      assert.equal(await s.consents.get('u-c', 'client-c'), null);
    });

    it('login sessions: found until they expire, gone when removed', async () => {
      await s.loginSessions.create({ idHash: 'ls-1', userId: 'u-a', csrfSecret: 'c', createdAt: NOW, expiresAt: NOW + 1000 });
      assert.equal((await s.loginSessions.get('ls-1', NOW + 999))?.userId, 'u-a');
      assert.equal(await s.loginSessions.get('ls-1', NOW + 1000), null);
      await s.loginSessions.remove('ls-1');
      assert.equal(await s.loginSessions.get('ls-1', NOW), null);
    });

    it('SEC-48 rate-limit counter: counts hits in a fixed window, starts a new window once it ends, keys apart', async () => {
      assert.deepEqual(await s.rateLimits.hit('rl:a', 60_000, NOW), { count: 1, resetAt: NOW + 60_000 });
      assert.deepEqual(await s.rateLimits.hit('rl:a', 60_000, NOW + 59_999), { count: 2, resetAt: NOW + 60_000 });
      assert.deepEqual(await s.rateLimits.hit('rl:b', 60_000, NOW + 1), { count: 1, resetAt: NOW + 60_001 });
      // The window ends at resetAt: the next hit opens a new one, counted from itself.
      assert.deepEqual(await s.rateLimits.hit('rl:a', 60_000, NOW + 60_000), { count: 1, resetAt: NOW + 120_000 });
      assert.deepEqual(await s.rateLimits.hit('rl:a', 60_000, NOW + 200_000), { count: 1, resetAt: NOW + 260_000 });
    });

    it('SEC-48 rate-limit counter: concurrent hits are each counted once (one atomic statement)', async () => {
      const counts = await Promise.all(Array.from({ length: 25 }, () => s.rateLimits.hit('rl:race', 60_000, NOW)));
      assert.deepEqual(counts.map((w) => w.count).sort((x, y) => x - y), Array.from({ length: 25 }, (_, i) => i + 1));
      assert.ok(counts.every((w) => w.resetAt === NOW + 60_000));
    });

    it('SEC-48 rate-limit counter: collectExpired removes ended windows only', async () => {
      await s.collectExpired(NOW + 1_000); // whatever earlier cases left to collect by then, so the count below is ours
      await s.rateLimits.hit('rl:ended', 1_000, NOW);
      await s.rateLimits.hit('rl:live', 60_000, NOW);
      assert.equal(await s.collectExpired(NOW + 1_000), 1);
      assert.equal((await s.rateLimits.hit('rl:live', 60_000, NOW + 1_000)).count, 2);
      assert.equal((await s.rateLimits.hit('rl:ended', 1_000, NOW + 1_000)).count, 1);
    });

    it('issue 12 login sessions: sign out everywhere ends every session of one user, or every one but the current', async () => {
      for (const [idHash, userId] of [['le-1', 'u-e'], ['le-2', 'u-e'], ['le-3', 'u-e'], ['le-other', 'u-f']] as const) {
        await s.loginSessions.create({ idHash, userId, csrfSecret: 'c', createdAt: NOW, expiresAt: NOW + 1000 });
      }
      assert.equal(await s.loginSessions.removeForUser('u-e', 'le-1'), 2);
      assert.equal((await s.loginSessions.get('le-1', NOW))?.userId, 'u-e', 'the kept session lives on');
      assert.equal(await s.loginSessions.get('le-2', NOW), null);
      assert.equal(await s.loginSessions.removeForUser('u-e'), 1);
      assert.equal(await s.loginSessions.get('le-1', NOW), null);
      assert.equal((await s.loginSessions.get('le-other', NOW))?.userId, 'u-f', "another user's session is untouched");
    });

    it('issue 12 login sessions: live ones listed (by user when asked), and all of a user\'s ended at once', async () => {
      const session = (idHash: string, userId: string, createdAt: number, expiresAt = NOW + 1000) => ({ idHash, userId, csrfSecret: 'c', createdAt, expiresAt });
      await s.loginSessions.create(session('lsa-1', 'u-ls-a', NOW));
      await s.loginSessions.create(session('lsa-2', 'u-ls-a', NOW + 1));
      await s.loginSessions.create(session('lsa-old', 'u-ls-a', NOW - 10, NOW + 5));
      await s.loginSessions.create(session('lsb-1', 'u-ls-b', NOW + 2));
      const hashes = async (filter: { now: number; userId?: string }) => (await s.loginSessions.list(filter)).map((x) => x.idHash).filter((h) => h.startsWith('ls'));
      assert.deepEqual(await hashes({ now: NOW + 10, userId: 'u-ls-a' }), ['lsa-1', 'lsa-2'], 'an expired session is not listed');
      assert.deepEqual(await hashes({ now: NOW + 10 }), ['lsa-1', 'lsa-2', 'lsb-1']);
      assert.equal(await s.loginSessions.removeForUser('u-ls-a'), 3);
      assert.equal(await s.loginSessions.get('lsa-1', NOW), null);
      assert.deepEqual(await hashes({ now: NOW + 10 }), ['lsb-1']);
      assert.equal(await s.loginSessions.removeForUser('u-ls-a'), 0);
    });

    it('failure counters: count within a window, lock as told, start over after the window, clear', async () => {
      const lock = (n: number) => (n >= 3 ? n * 1000 : 0);
      await s.failures.record('k', NOW, lock, 60_000);
      await s.failures.record('k', NOW + 1, lock, 60_000);
      const third = await s.failures.record('k', NOW + 2, lock, 60_000);
      assert.deepEqual(third, { count: 3, lockedUntil: NOW + 2 + 3000 });
      assert.equal((await s.failures.get('k', NOW + 3)).lockedUntil, NOW + 3002);
      assert.equal((await s.failures.get('k', NOW + 4000)).lockedUntil, 0);
      const fresh = await s.failures.record('k', NOW + 120_000, lock, 60_000);
      assert.equal(fresh.count, 1);
      await s.failures.clear('k');
      assert.deepEqual(await s.failures.get('k', NOW), { count: 0, lockedUntil: 0 });
    });

    it('issue 10 HARD-1 failure counters of several keys in one read, in the order asked, absent keys at zero', async () => {
      const lock = (n: number) => (n >= 2 ? 5000 : 0);
      await s.failures.record('many-a', NOW, lock, 60_000);
      await s.failures.record('many-a', NOW, lock, 60_000);
      await s.failures.record('many-b', NOW, lock, 60_000);
      const none = { count: 0, lockedUntil: 0 };
      assert.deepEqual(await s.failures.getMany(['many-b', 'many-a'], NOW + 1), [{ count: 1, lockedUntil: 0 }, { count: 2, lockedUntil: NOW + 5000 }]);
      assert.deepEqual(await s.failures.getMany(['many-a', 'many-none'], NOW + 1), [{ count: 2, lockedUntil: NOW + 5000 }, none]);
      assert.deepEqual(await s.failures.getMany(['many-none'], NOW), [none]);
      assert.deepEqual(await s.failures.getMany(['many-a', 'many-none', 'many-b'], NOW + 6000), [{ count: 2, lockedUntil: 0 }, none, { count: 1, lockedUntil: 0 }]);
      assert.deepEqual(await s.failures.getMany([], NOW), []);
      for (const key of ['many-a', 'many-b']) assert.deepEqual(await s.failures.getMany([key], NOW + 1), [await s.failures.get(key, NOW + 1)]);
    });

    it('failure counters: a later record never shortens a lock already set (concurrent failures keep the longer lock)', async () => {
      // Two failures race: the one counted higher sets the longer lock first, then the other one's
      // lock update lands. Replayed in that order, the stored lock must stay the longer one.
      const longLock = await s.failures.record('k-race', NOW, () => 60_000, 60_000);
      assert.equal(longLock.lockedUntil, NOW + 60_000);
      const late = await s.failures.record('k-race', NOW, () => 1_000, 60_000);
      assert.deepEqual(late, { count: 2, lockedUntil: NOW + 60_000 });
      assert.equal((await s.failures.get('k-race', NOW + 2_000)).lockedUntil, NOW + 60_000);
      // A longer lock still replaces a shorter one.
      const longer = await s.failures.record('k-race', NOW + 10, () => 120_000, 60_000);
      assert.equal(longer.lockedUntil, NOW + 120_010);
      await s.failures.clear('k-race');
    });

    it('tasks: each user sees, completes and deletes only their own', async () => {
      await s.tasks.create({ id: 'task-1', userId: 'u-t1', title: 'one', done: false, createdAt: NOW, completedAt: null });
      await s.tasks.create({ id: 'task-2', userId: 'u-t2', title: 'two', done: false, createdAt: NOW, completedAt: null });
      assert.deepEqual((await s.tasks.list('u-t1')).map((t) => t.id), ['task-1']);
      assert.equal(await s.tasks.complete('u-t2', 'task-1', NOW), null);
      assert.equal(await s.tasks.remove('u-t2', 'task-1'), false);
      const done = await s.tasks.complete('u-t1', 'task-1', NOW + 5);
      assert.equal(done?.done, true);
      assert.equal(done?.completedAt, NOW + 5);
      assert.equal((await s.tasks.complete('u-t1', 'task-1', NOW + 9))?.completedAt, NOW + 5, 'completing twice keeps the first time');
      assert.equal(await s.tasks.remove('u-t1', 'task-1'), true);
      assert.deepEqual(await s.tasks.list('u-t1'), []);
    });

    const signingKey = (over: Partial<SigningKeyRecord> = {}): SigningKeyRecord => ({
      kid: id('kid'),
      alg: 'ES256',
      privateJwk: `{"d":"${id('secret')}"}`,
      publicJwk: '{}',
      createdAt: NOW,
      retiredAt: null,
      publishUntil: null,
      ...over,
    });
    const active = async () => (await s.signingKeys.list()).filter((k) => k.retiredAt === null);

    it('HARD-6 signing keys: one added when none is active, rotation retires it atomically, collected after they stop being published', async () => {
      const first = signingKey();
      const rivals = [signingKey(), signingKey(), signingKey()];
      // Whatever keys earlier cases left: the contract is about this sequence.
      const already = (await active()).length;
      const added = await Promise.all([first, ...rivals].map((k) => s.signingKeys.addIfNoneActive(k)));
      assert.equal(added.filter(Boolean).length, already === 0 ? 1 : 0, 'exactly one key is added to an empty store');
      assert.equal((await active()).length, 1);

      const next = signingKey({ createdAt: NOW + 1 });
      await s.signingKeys.rotate(next, NOW + 1, NOW + 100);
      const keys = await s.signingKeys.list();
      assert.deepEqual((await active()).map((k) => k.kid), [next.kid]);
      assert.equal(keys.find((k) => k.kid === next.kid)?.privateJwk, next.privateJwk, 'the private key reads back as written');
      const retired = keys.filter((k) => k.kid !== next.kid && k.retiredAt === NOW + 1);
      assert.ok(retired.length >= 1 && retired.every((k) => k.publishUntil === NOW + 100));
      assert.equal(await s.signingKeys.addIfNoneActive(signingKey()), false, 'no second active key beside the rotated one');

      // Concurrent rotations: whatever each caller sees, one key is active afterwards.
      await Promise.allSettled([signingKey({ createdAt: NOW + 2 }), signingKey({ createdAt: NOW + 2 })].map((k) => s.signingKeys.rotate(k, NOW + 2, NOW + 200)));
      assert.equal((await active()).length, 1);

      await s.collectExpired(NOW + 100);
      assert.deepEqual((await s.signingKeys.list()).filter((k) => k.publishUntil !== null && k.publishUntil <= NOW + 100), []);
    });

    it('settings: the first value written wins, also under concurrency', async () => {
      const values = await Promise.all(['a', 'b', 'c', 'd'].map((v) => s.settings.putIfAbsent('race', v)));
      assert.equal(new Set(values).size, 1);
      assert.equal(await s.settings.get('race'), values[0]);
      assert.equal(await s.settings.get('never-set'), null);
    });

    it('collectExpired removes expired codes, requests, sessions, refresh tokens and dead grants, and nothing live', async () => {
      const T = NOW + 10 * 86_400_000;
      const live = grant({ expiresAt: T + 1000 });
      const dead = grant({ expiresAt: T });
      await s.grants.create(live);
      await s.grants.create(dead);
      const liveRt = refresh(live.id, { expiresAt: T + 1 });
      await s.refreshTokens.create(liveRt);
      const liveCode = code({ expiresAt: T + 1 });
      await s.authorizationCodes.create(liveCode);
      await s.loginSessions.create({ idHash: 'ls-live', userId: 'u', csrfSecret: 'c', createdAt: T, expiresAt: T + 1 });
      const removed = await s.collectExpired(T);
      assert.ok(removed >= 1);
      assert.equal(await s.grants.get(dead.id), null);
      assert.notEqual(await s.grants.get(live.id), null);
      assert.notEqual(await s.refreshTokens.get(liveRt.tokenHash), null);
      assert.equal((await s.authorizationCodes.redeem(liveCode.codeHash, T, T + 1000)).status, 'ok');
      assert.notEqual(await s.loginSessions.get('ls-live', T), null);
    });

    it('UP-06 external identities: linked by provider, issuer and subject; one user however many concurrent first logins', async () => {
      const key = { provider: 'oidc', issuer: 'https://idp.example', subject: id('sub') };
      const newUser = (n: string) => ({ id: id('u-ext'), username: `${n}-${id('name')}`, passwordHash: 'x', isAdmin: false, createdAt: NOW });
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => s.externalIdentities.resolve(key, newUser(`ext${i}`), NOW)));
      assert.equal(results.filter((r) => r.created).length, 1, 'exactly one first login creates the user');
      assert.equal(new Set(results.map((r) => r.user.id)).size, 1, 'everyone gets the same user');
      const user = results[0]!.user;
      assert.equal((await s.users.list()).filter((u) => u.username.startsWith('ext')).length, 1, 'no orphan users from the losers');

      const again = await s.externalIdentities.resolve(key, newUser('unused'), NOW + 5);
      assert.deepEqual({ id: again.user.id, created: again.created }, { id: user.id, created: false });
      const [link] = await s.externalIdentities.listForUser(user.id);
      assert.deepEqual(link, { ...key, userId: user.id, createdAt: NOW, lastLoginAt: NOW + 5 });

      // The same subject at another issuer, or another provider kind, is someone else.
      const other = await s.externalIdentities.resolve({ ...key, issuer: 'https://other.example' }, newUser('other'), NOW);
      const stytch = await s.externalIdentities.resolve({ ...key, provider: 'stytch' }, newUser('stytch'), NOW);
      assert.ok(other.created && stytch.created);
      assert.equal(new Set([user.id, other.user.id, stytch.user.id]).size, 3);

      assert.equal(await s.users.remove(user.id), true);
      assert.deepEqual(await s.externalIdentities.listForUser(user.id), [], 'removing the user removes the link');
      assert.equal((await s.externalIdentities.resolve(key, newUser('fresh'), NOW)).created, true, 'the identity then starts over');
    });

    it('BP-06 upstream transactions: taken once, not after they expire, and collected when expired', async () => {
      const tx = (over: Partial<UpstreamTransactionRecord> = {}): UpstreamTransactionRecord => ({
        stateHash: id('state'),
        browserHash: 'browser-hash',
        requestId: 'req-1',
        provider: 'oidc',
        codeVerifier: 'v'.repeat(43),
        nonce: 'n'.repeat(43),
        createdAt: NOW,
        expiresAt: NOW + 600_000,
        ...over,
      });
      const one = tx();
      await s.upstreamTransactions.create(one);
      const takers = await Promise.all(Array.from({ length: 10 }, () => s.upstreamTransactions.take(one.stateHash, NOW)));
      assert.equal(takers.filter(Boolean).length, 1, 'exactly one taker wins');
      assert.deepEqual(takers.find(Boolean), one);

      const late = tx({ codeVerifier: null, nonce: null });
      await s.upstreamTransactions.create(late);
      assert.equal(await s.upstreamTransactions.take(late.stateHash, late.expiresAt), null, 'expired is absent');

      const expired = tx({ expiresAt: NOW + 1 });
      const live = tx({ expiresAt: NOW + 10 });
      await s.upstreamTransactions.create(expired);
      await s.upstreamTransactions.create(live);
      assert.ok((await s.collectExpired(NOW + 1)) >= 1);
      assert.equal(await s.upstreamTransactions.take(expired.stateHash, NOW), null, 'collected');
      assert.notEqual(await s.upstreamTransactions.take(live.stateHash, NOW), null, 'a live one is kept');
    });

    it('ping answers true while open', async () => {
      assert.equal(await s.ping(), true);
    });

    it('issue 12 writeProblem: null on a writable store, and the probe leaves nothing behind', async () => {
      // Twice: had the first probe committed its row, the second would collide with it.
      assert.equal(await s.writeProblem(), null);
      assert.equal(await s.writeProblem(), null);
    });
  });
}
