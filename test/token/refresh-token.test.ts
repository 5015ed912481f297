import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { LocalTokenVerifier } from '../../src/resource/verify-local.ts';
import { hashSecret } from '../../src/util/crypto.ts';
import { addClient, addCode, assertNoSecretsLogged, errorOf, post, redeem, refresh, remember, setup, type Fixture, type TokenBody } from './fixtures.ts';

const DAY = 86_400_000;

async function refreshed(t: Fixture, res: Response): Promise<TokenBody> {
  const body = (await res.json()) as TokenBody;
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(res.headers.get('Cache-Control'), 'no-store');
  remember(t, body);
  return body;
}

/** A user, a public client and a redeemed code: the starting point of every refresh test. */
async function granted(config: Parameters<typeof setup>[0] = {}, scopes = ['tasks:read', 'tasks:write', 'offline_access']) {
  const t = await setup(config);
  const { client } = await addClient(t);
  const issued = await addCode(t, client, { scopes });
  const tokens = await redeem(t, client, issued);
  return { t, client, issued, tokens, refreshToken: tokens.refresh_token! };
}

describe('refresh_token grant', () => {
  it('AS-20 OAuth 2.1 §4.3.1 every refresh rotates the refresh token and issues a new access token', async () => {
    const { t, client, issued, tokens, refreshToken } = await granted();
    t.clock.advance(1000);
    const next = await refreshed(t, await refresh(t, client, refreshToken));
    assert.notEqual(next.refresh_token, refreshToken);
    assert.match(next.refresh_token!, /^pcr_/);
    assert.notEqual(next.access_token, tokens.access_token);
    assert.equal(next.token_type, 'Bearer');
    assert.equal(next.scope, 'tasks:read tasks:write offline_access');
    assert.equal(decodeJwt(next.access_token)['gid'], issued.grantId);
    const old = await t.storage.refreshTokens.get(hashSecret(refreshToken));
    assert.equal(old?.successorHash, hashSecret(next.refresh_token!));
    // The successor works in turn.
    t.clock.advance(1000);
    await refreshed(t, await refresh(t, client, next.refresh_token!));
    assert.ok(t.logger.records().some((r) => r['msg'] === 'token.refreshed' && r['retry'] === false));
    assertNoSecretsLogged(t);
  });

  it('SEC-38 a retry of the same token within the grace period gets the same successor and a fresh access token', async () => {
    const { t, client, issued, refreshToken } = await granted();
    const first = await refreshed(t, await refresh(t, client, refreshToken));
    t.clock.advance(t.ctx.config.refreshGracePeriod * 1000 - 1);
    const retry = await refreshed(t, await refresh(t, client, refreshToken));
    assert.equal(retry.refresh_token, first.refresh_token);
    assert.notEqual(decodeJwt(retry.access_token).jti, decodeJwt(first.access_token).jti);
    assert.equal((await t.storage.grants.get(issued.grantId))?.revokedAt, null);
    assert.ok(t.logger.records().some((r) => r['msg'] === 'token.refreshed' && r['retry'] === true));
    await refreshed(t, await refresh(t, client, first.refresh_token!));
  });

  it('SEC-35 OAuth 2.1 §4.3.1 a rotated token reused after the grace period revokes the whole grant', async () => {
    const { t, client, issued, tokens, refreshToken } = await granted();
    const next = await refreshed(t, await refresh(t, client, refreshToken));
    t.clock.advance(t.ctx.config.refreshGracePeriod * 1000 + 1);
    const reuse = await refresh(t, client, refreshToken);
    assert.deepEqual(await errorOf(reuse), { status: 400, error: 'invalid_grant', description: 'The refresh token is invalid, expired, or was revoked.' });
    assert.notEqual((await t.storage.grants.get(issued.grantId))?.revokedAt, null);
    // The legitimate holder's successor and every access token of the grant are dead too.
    assert.equal((await errorOf(await refresh(t, client, next.refresh_token!))).error, 'invalid_grant');
    const verifier = new LocalTokenVerifier(t.ctx);
    assert.deepEqual(await verifier.verify(next.access_token), { ok: false, reason: 'grant_not_live' });
    assert.deepEqual(await verifier.verify(tokens.access_token), { ok: false, reason: 'grant_not_live' });
    assert.ok(t.logger.records().some((r) => r['msg'] === 'refresh.reuse_detected' && r['grant_id'] === issued.grantId && r['audit'] === true));
    assertNoSecretsLogged(t);
  });

  it('SEC-35 with refreshGracePeriod 0 any reuse of a rotated token revokes the grant (strict OAuth 2.1)', async () => {
    const { t, client, issued, refreshToken } = await granted({ refreshGracePeriod: 0 });
    await refreshed(t, await refresh(t, client, refreshToken));
    t.clock.advance(1);
    assert.equal((await errorOf(await refresh(t, client, refreshToken))).error, 'invalid_grant');
    assert.notEqual((await t.storage.grants.get(issued.grantId))?.revokedAt, null);
  });

  it('SEC-38 a retry after the successor was itself used is reuse, even inside the grace period', async () => {
    const { t, client, issued, refreshToken } = await granted();
    const next = await refreshed(t, await refresh(t, client, refreshToken));
    await refreshed(t, await refresh(t, client, next.refresh_token!));
    assert.equal((await errorOf(await refresh(t, client, refreshToken))).error, 'invalid_grant');
    assert.notEqual((await t.storage.grants.get(issued.grantId))?.revokedAt, null);
  });

  it('SEC-38 concurrent refreshes with one token within the grace period all succeed with the same successor', async () => {
    const { t, client, issued, refreshToken } = await granted();
    const responses = await Promise.all(Array.from({ length: 8 }, () => refresh(t, client, refreshToken)));
    const bodies = await Promise.all(responses.map((r) => refreshed(t, r)));
    assert.equal(new Set(bodies.map((b) => b.refresh_token)).size, 1);
    assert.equal((await t.storage.grants.get(issued.grantId))?.revokedAt, null);
    await refreshed(t, await refresh(t, client, bodies[0]!.refresh_token!));
  });

  it('SEC-36 scope may narrow for one access token; the new refresh token keeps the granted scope', async () => {
    const { t, client, refreshToken } = await granted();
    const narrow = await refreshed(t, await refresh(t, client, refreshToken, { scope: 'tasks:read' }));
    assert.equal(narrow.scope, 'tasks:read');
    assert.equal(decodeJwt(narrow.access_token)['scope'], 'tasks:read');
    assert.deepEqual((await t.storage.refreshTokens.get(hashSecret(narrow.refresh_token!)))?.scopes, ['tasks:read', 'tasks:write', 'offline_access']);
    const full = await refreshed(t, await refresh(t, client, narrow.refresh_token!));
    assert.equal(full.scope, 'tasks:read tasks:write offline_access');
  });

  it('SEC-36 a scope the grant does not include is invalid_scope and changes nothing', async () => {
    const { t, client, refreshToken } = await granted({}, ['tasks:read', 'offline_access']);
    const wider = await refresh(t, client, refreshToken, { scope: 'tasks:read tasks:write' });
    assert.equal((await errorOf(wider)).error, 'invalid_scope');
    const unknown = await refresh(t, client, refreshToken, { scope: 'admin' });
    assert.equal((await errorOf(unknown)).error, 'invalid_scope');
    assert.equal((await t.storage.refreshTokens.get(hashSecret(refreshToken)))?.rotatedAt, null, 'not rotated by a bad request');
    await refreshed(t, await refresh(t, client, refreshToken));
  });

  it('SEC-37 a refresh token unused for refreshTokenIdleTtl expires', async () => {
    const { t, client, refreshToken } = await granted({ refreshTokenIdleTtl: 300 });
    t.clock.advance(299_000);
    const next = await refreshed(t, await refresh(t, client, refreshToken));
    t.clock.advance(300_000);
    assert.equal((await errorOf(await refresh(t, client, next.refresh_token!))).error, 'invalid_grant');
  });

  it('SEC-37 no grant outlives refreshTokenAbsoluteTtl, however often it is refreshed', async () => {
    const { t, client, issued, refreshToken } = await granted({ refreshTokenIdleTtl: 300, refreshTokenAbsoluteTtl: 600 });
    t.clock.advance(250_000);
    const a = await refreshed(t, await refresh(t, client, refreshToken));
    t.clock.advance(250_000);
    const b = await refreshed(t, await refresh(t, client, a.refresh_token!));
    // The successor's idle expiry is capped at the grant's end.
    const grant = await t.storage.grants.get(issued.grantId);
    assert.equal((await t.storage.refreshTokens.get(hashSecret(b.refresh_token!)))?.expiresAt, grant?.expiresAt);
    t.clock.advance(100_000);
    assert.equal((await errorOf(await refresh(t, client, b.refresh_token!))).error, 'invalid_grant');
  });

  it('SEC-37 the default lifetimes: idle 30 days, absolute 180 days', async () => {
    const { t, client, refreshToken } = await granted();
    t.clock.advance(29 * DAY);
    const next = await refreshed(t, await refresh(t, client, refreshToken));
    t.clock.advance(31 * DAY);
    assert.equal((await errorOf(await refresh(t, client, next.refresh_token!))).error, 'invalid_grant');
  });

  it('SEC-34 a refresh token presented by another client is invalid_grant and stays usable by its own', async () => {
    const { t, client, refreshToken } = await granted();
    const { client: other } = await addClient(t);
    assert.equal((await errorOf(await refresh(t, other, refreshToken))).error, 'invalid_grant');
    await refreshed(t, await refresh(t, client, refreshToken));
  });

  it('SEC-33 a client that did not register refresh_token may refresh only with offline_access', async () => {
    const t = await setup();
    const { client } = await addClient(t, { grantTypes: ['authorization_code'] });
    const offline = await redeem(t, client, await addCode(t, client, { scopes: ['tasks:read', 'offline_access'] }));
    await refreshed(t, await refresh(t, client, offline.refresh_token!));
    const online = await redeem(t, client, await addCode(t, client, { scopes: ['tasks:read'], issueRefreshToken: true }));
    assert.equal((await errorOf(await refresh(t, client, online.refresh_token!))).error, 'unauthorized_client');
  });

  it('RFC 8707 §2.2 a refresh may name the granted resource, and no other', async () => {
    const { t, client, refreshToken } = await granted();
    assert.equal((await errorOf(await refresh(t, client, refreshToken, { resource: 'https://other.example/mcp' }))).error, 'invalid_target');
    const ok = await refreshed(t, await refresh(t, client, refreshToken, { resource: t.ctx.config.resource }));
    assert.equal(decodeJwt(ok.access_token).aud, t.ctx.config.resource);
  });

  it('OAuth 2.1 §4.3 an unknown or missing refresh token is refused', async () => {
    const { t, client } = await granted();
    assert.equal((await errorOf(await refresh(t, client, 'pcr_' + 'B'.repeat(43)))).error, 'invalid_grant');
    const missing = await post(t, '/token', { grant_type: 'refresh_token', client_id: client.clientId });
    assert.equal((await errorOf(missing)).error, 'invalid_request');
  });

  it('OAuth 2.1 §4.3 a revoked grant cannot be refreshed', async () => {
    const { t, client, issued, refreshToken } = await granted();
    await t.storage.grants.revoke(issued.grantId, t.clock.now());
    assert.equal((await errorOf(await refresh(t, client, refreshToken))).error, 'invalid_grant');
  });
});
