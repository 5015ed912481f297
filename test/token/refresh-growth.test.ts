import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPortcullis } from '../../src/portcullis.ts';
import { hashSecret } from '../../src/util/crypto.ts';
import { addClient, addCode, errorOf, redeem, refresh, remember, setup, type Fixture, type TokenBody } from './fixtures.ts';

async function refreshed(t: Fixture, res: Response): Promise<TokenBody> {
  const body = (await res.json()) as TokenBody;
  assert.equal(res.status, 200, JSON.stringify(body));
  remember(t, body);
  return body;
}

async function granted(config: Parameters<typeof setup>[0] = {}) {
  const t = await setup(config);
  const { client } = await addClient(t);
  const issued = await addCode(t, client, { scopes: ['tasks:read', 'offline_access'] });
  const tokens = await redeem(t, client, issued);
  return { t, client, issued, refreshToken: tokens.refresh_token! };
}

/** Refreshes `n` times, a second apart; returns every token of the chain, oldest first. */
async function rotateMany(t: Fixture, client: Parameters<typeof refresh>[1], first: string, n: number): Promise<string[]> {
  const chain = [first];
  for (let i = 0; i < n; i++) {
    t.clock.advance(1000);
    chain.push((await refreshed(t, await refresh(t, client, chain.at(-1)!))).refresh_token!);
  }
  return chain;
}

describe('refresh tokens: bounded storage, reuse detection, restarts', () => {
  it('HARD-8 OAuth 2.1 §4.3.1 after 30 refreshes the grant keeps two rows, and reuse of an old token still revokes the grant', async () => {
    const { t, client, issued, refreshToken } = await granted();
    const chain = await rotateMany(t, client, refreshToken, 30);
    const stored = (await Promise.all(chain.map((token) => t.storage.refreshTokens.get(hashSecret(token))))).filter((r) => r !== null);
    assert.deepEqual(
      stored.map((r) => r.tokenHash),
      chain.slice(-2).map(hashSecret),
      'only the live token and the one it replaced are stored',
    );
    assert.ok(stored.every((r) => r.grantId === issued.grantId));

    t.clock.advance(t.ctx.config.refreshGracePeriod * 1000 + 1);
    const reuse = await refresh(t, client, chain[5]!);
    assert.equal((await errorOf(reuse)).error, 'invalid_grant');
    assert.notEqual((await t.storage.grants.get(issued.grantId))?.revokedAt, null, 'the grant is revoked');
    assert.ok(t.logger.records().some((r) => r['msg'] === 'refresh.reuse_detected' && r['grant_id'] === issued.grantId));
    assert.equal((await errorOf(await refresh(t, client, chain.at(-1)!))).error, 'invalid_grant', 'the live token died with the grant');
  });

  it('HARD-8 SEC-38 the predecessor still answers a retry within the grace period with the same successor', async () => {
    const { t, client, refreshToken } = await granted();
    const chain = await rotateMany(t, client, refreshToken, 5);
    t.clock.advance(500);
    const retry = await refreshed(t, await refresh(t, client, chain[4]!));
    assert.equal(retry.refresh_token, chain[5]);
  });

  it('HARD-8 SEC-34 an old token presented by another client changes nothing', async () => {
    const { t, client, issued, refreshToken } = await granted();
    const { client: other } = await addClient(t);
    const chain = await rotateMany(t, client, refreshToken, 3);
    assert.equal((await errorOf(await refresh(t, other, chain[0]!))).error, 'invalid_grant');
    assert.equal((await t.storage.grants.get(issued.grantId))?.revokedAt, null);
    await refreshed(t, await refresh(t, client, chain[3]!));
  });

  it('HARD-8 a forged token naming a grant with a wrong family tag changes nothing', async () => {
    const { t, client, issued, refreshToken } = await granted();
    const [, tag] = refreshToken.slice('pcr_'.length).split('.') as [string, string, string];
    const wrongTag = (tag[0] === 'A' ? 'B' : 'A') + tag.slice(1);
    for (const forged of [`pcr_${issued.grantId}.${wrongTag}.${'x'.repeat(43)}`, `pcr_${issued.grantId}.x.y`, `pcr_${issued.grantId}`]) {
      assert.equal((await errorOf(await refresh(t, client, forged))).error, 'invalid_grant');
    }
    assert.equal((await t.storage.grants.get(issued.grantId))?.revokedAt, null);
    await refreshed(t, await refresh(t, client, refreshToken));
  });

  it('HARD-8 a token issued before families existed still rotates, into a token with a family', async () => {
    const { t, client, issued } = await granted();
    const legacy = 'pcr_' + 'L'.repeat(43);
    const grant = (await t.storage.grants.get(issued.grantId))!;
    const now = t.clock.now();
    await t.storage.refreshTokens.create({ tokenHash: hashSecret(legacy), grantId: grant.id, clientId: client.clientId, scopes: grant.scopes, issuedAt: now, expiresAt: now + 60_000, rotatedAt: null, successorHash: null });
    const next = await refreshed(t, await refresh(t, client, legacy));
    assert.ok(next.refresh_token!.startsWith(`pcr_${issued.grantId}.`));
  });

  describe('HARD-9 a retry after a restart slower than the grace period', () => {
    /** The same database served by a new process that started `downMs` after the refresh. */
    async function restarted(t: Fixture, downMs: number): Promise<Fixture> {
      t.clock.advance(downMs);
      const next = await createPortcullis({ config: t.ctx.config, storage: t.storage, clock: t.clock, logger: t.logger, fetch: t.ctx.fetch });
      const request = (path: string, init?: RequestInit) => Promise.resolve(next.app.fetch(new Request(new URL(path, t.origin), init)));
      return Object.assign(Object.create(t) as Fixture, { ...next, request });
    }

    it('HARD-9 honest side: the client that never got its response retries after the restart and gets the same successor', async () => {
      const { t, client, issued, refreshToken } = await granted();
      const lost = await refreshed(t, await refresh(t, client, refreshToken)); // committed; the response is lost in the crash
      const t2 = await restarted(t, 5 * 60_000); // down for five minutes, ten times the grace period
      t2.clock.advance(2000);
      const retry = await refreshed(t2, await refresh(t2, client, refreshToken));
      assert.equal(retry.refresh_token, lost.refresh_token);
      assert.equal((await t2.storage.grants.get(issued.grantId))?.revokedAt, null);
      await refreshed(t2, await refresh(t2, client, retry.refresh_token!));
    });

    it('HARD-9 attacker side: after the grace period following the start, the spent token is reuse and revokes the grant', async () => {
      const { t, client, issued, refreshToken } = await granted();
      await refreshed(t, await refresh(t, client, refreshToken));
      const t2 = await restarted(t, 5 * 60_000);
      t2.clock.advance(t.ctx.config.refreshGracePeriod * 1000 + 1);
      assert.equal((await errorOf(await refresh(t2, client, refreshToken))).error, 'invalid_grant');
      assert.notEqual((await t2.storage.grants.get(issued.grantId))?.revokedAt, null);
    });

    it('HARD-9 attacker side: once the successor has been used, the spent token is reuse even right after a restart', async () => {
      const { t, client, issued, refreshToken } = await granted();
      const next = await refreshed(t, await refresh(t, client, refreshToken));
      t.clock.advance(1000);
      await refreshed(t, await refresh(t, client, next.refresh_token!));
      const t2 = await restarted(t, 5 * 60_000);
      assert.equal((await errorOf(await refresh(t2, client, refreshToken))).error, 'invalid_grant');
      assert.notEqual((await t2.storage.grants.get(issued.grantId))?.revokedAt, null);
    });
  });
});
