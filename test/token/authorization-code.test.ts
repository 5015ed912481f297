import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { resolveConfig } from '../../src/config/resolve.ts';
import { LocalTokenVerifier } from '../../src/resource/verify-local.ts';
import { hashSecret } from '../../src/util/crypto.ts';
import {
  addClient,
  addCode,
  assertNoSecretsLogged,
  errorOf,
  post,
  REDIRECT_URI,
  redeem,
  refresh,
  remember,
  setup,
  verifyFromPublishedJwks,
  type TokenBody,
} from './fixtures.ts';

const exchange = (t: Awaited<ReturnType<typeof setup>>, clientId: string, code: string, verifier: string, extra: Record<string, string> = {}) =>
  post(t, '/token', { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, ...extra });

describe('authorization_code grant', () => {
  it('OAuth 2.1 §3.2.3 a valid code, verifier and client get a Bearer token, a refresh token, application/json and no-store', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    const res = await exchange(t, client.clientId, issued.code, issued.verifier);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('Content-Type') ?? '', /^application\/json/);
    assert.equal(res.headers.get('Cache-Control'), 'no-store');
    assert.equal(res.headers.get('Pragma'), 'no-cache');
    const body = (await res.json()) as TokenBody;
    remember(t, body);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);
    assert.equal(body.scope, 'tasks:read offline_access');
    // pcr_<grant id>.<family tag>.<256 random bits> (refresh-secrets.ts).
    assert.match(body.refresh_token ?? '', /^pcr_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    assert.equal(body.id_token, undefined, 'no id_token without openid');
    // Only the hash of the refresh token is stored.
    assert.ok(await t.storage.refreshTokens.get(hashSecret(body.refresh_token!)));
    assert.equal(await t.storage.refreshTokens.get(body.refresh_token!), null);
    const grant = await t.storage.grants.get(issued.grantId);
    assert.equal(grant?.userId, t.user.id);
    assert.equal(grant?.expiresAt, t.clock.now() + t.ctx.config.refreshTokenAbsoluteTtl * 1000);
    assert.ok(t.logger.records().some((r) => r['msg'] === 'token.issued' && r['grant_id'] === issued.grantId));
    assertNoSecretsLogged(t);
  });

  it('RFC 9068 §2 the access token is an at+jwt with iss, sub, aud = resource, client_id, scope, iat, exp, jti, verifiable from the published JWKS (audience-restricted SEC-39, one-hour lifetime AS-19)', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    const body = await redeem(t, client, issued);
    const header = decodeProtectedHeader(body.access_token);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'ES256');
    assert.ok(t.ctx.keys.jwks().keys.some((k) => k.kid === header.kid), 'signed by a published key');
    const claims = await verifyFromPublishedJwks(t, body.access_token, 'at+jwt');
    assert.equal(claims.iss, 'http://localhost:3000');
    assert.equal(claims.sub, t.user.id);
    assert.equal(claims.aud, 'http://localhost:3000/mcp');
    assert.equal(claims['client_id'], client.clientId);
    assert.equal(claims['scope'], 'tasks:read offline_access');
    assert.equal(claims.iat, Math.floor(t.clock.now() / 1000));
    assert.equal(claims.exp, claims.iat! + 3600);
    assert.equal(typeof claims.jti, 'string');
    assert.equal(claims['gid'], issued.grantId);
  });

  it('issue 2 part 7 RS256 tokens are issued when configured', async () => {
    const t = await setup({ signingAlgorithm: 'RS256' });
    const { client } = await addClient(t);
    const body = await redeem(t, client, await addCode(t, client));
    assert.equal(decodeProtectedHeader(body.access_token).alg, 'RS256');
    await verifyFromPublishedJwks(t, body.access_token, 'at+jwt');
  });

  it('RFC 7636 §4.6 a wrong code_verifier is invalid_grant and leaves the code usable by its client', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    const other = await addCode(t, client); // a well-formed verifier that belongs to another code
    const res = await exchange(t, client.clientId, issued.code, other.verifier);
    assert.deepEqual(await errorOf(res), { status: 400, error: 'invalid_grant', description: 'The authorization code is invalid, expired, or was issued to another client.' });
    assert.equal(res.headers.get('Cache-Control'), 'no-store');
    // SEC-16: a bad request is not a redemption; the rightful client can still redeem it.
    await redeem(t, client, issued);
    assert.equal(t.logger.records().filter((r) => r['msg'] === 'code.replayed').length, 0);
  });

  it('RFC 7636 §4.1 a missing or malformed code_verifier is invalid_request (SEC-13)', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    const missing = await post(t, '/token', { grant_type: 'authorization_code', code: issued.code, client_id: client.clientId });
    assert.equal((await errorOf(missing)).error, 'invalid_request');
    const short = await exchange(t, client.clientId, issued.code, 'too-short');
    assert.equal((await errorOf(short)).error, 'invalid_request');
    const missingCode = await post(t, '/token', { grant_type: 'authorization_code', code_verifier: issued.verifier, client_id: client.clientId });
    assert.deepEqual(await errorOf(missingCode), { status: 400, error: 'invalid_request', description: 'The code parameter is required.' });
    await redeem(t, client, issued);
  });

  it('OAuth 2.1 §4.1.3 an unknown code is invalid_grant', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    const res = await exchange(t, client.clientId, 'pcc_' + 'A'.repeat(43), issued.verifier);
    assert.equal((await errorOf(res)).error, 'invalid_grant');
  });

  it('SEC-16 a replayed code with valid parameters is refused and revokes the grant, its refresh token and its access tokens', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    const first = await redeem(t, client, issued);
    const verifier = new LocalTokenVerifier(t.ctx);
    assert.equal((await verifier.verify(first.access_token)).ok, true);

    const replay = await exchange(t, client.clientId, issued.code, issued.verifier);
    assert.deepEqual(await errorOf(replay), { status: 400, error: 'invalid_grant', description: 'The authorization code is invalid, expired, or was issued to another client.' });
    assert.notEqual((await t.storage.grants.get(issued.grantId))?.revokedAt, null);
    assert.equal((await errorOf(await refresh(t, client, first.refresh_token!))).error, 'invalid_grant');
    assert.deepEqual(await verifier.verify(first.access_token), { ok: false, reason: 'grant_not_live' });
    assert.ok(t.logger.records().some((r) => r['msg'] === 'code.replayed' && r['grant_id'] === issued.grantId && r['audit'] === true));
    assertNoSecretsLogged(t);
  });

  it('SEC-16 a replay with invalid parameters (wrong verifier, other client) is refused without revoking anything', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const { client: intruder } = await addClient(t);
    const issued = await addCode(t, client);
    const first = await redeem(t, client, issued);
    const wrongVerifier = await exchange(t, client.clientId, issued.code, 'x'.repeat(43));
    assert.equal((await errorOf(wrongVerifier)).error, 'invalid_grant');
    const otherClient = await exchange(t, intruder.clientId, issued.code, issued.verifier);
    assert.equal((await errorOf(otherClient)).error, 'invalid_grant');
    assert.equal((await t.storage.grants.get(issued.grantId))?.revokedAt, null);
    assert.equal((await refresh(t, client, first.refresh_token!)).status, 200);
  });

  it('SEC-16 ten concurrent redemptions of one code: exactly one succeeds, and the valid replays revoke what it issued', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    const responses = await Promise.all(Array.from({ length: 10 }, () => exchange(t, client.clientId, issued.code, issued.verifier)));
    const ok = responses.filter((r) => r.status === 200);
    assert.equal(ok.length, 1);
    for (const r of responses.filter((x) => x.status !== 200)) assert.equal((await errorOf(r)).error, 'invalid_grant');
    const winner = (await ok[0]!.json()) as TokenBody;
    remember(t, winner);
    // The nine others were valid replays: the one grant the code issued is revoked (SEC-16).
    const grant = await t.storage.grants.get(issued.grantId);
    assert.notEqual(grant?.revokedAt, null);
    assert.equal((await refresh(t, client, winner.refresh_token!)).status, 400);
    assert.equal((await t.storage.grants.listForUser(t.user.id)).length, 1, 'one code made one grant');
  });

  it('SEC-16 a replay that arrives while the first redemption is still being processed still revokes what the code issued', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    // Make any separate grant write slow, as on a busy database: the code must not be consumable
    // without its grant existing, or the replay would find nothing to revoke.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const create = t.storage.grants.create.bind(t.storage.grants);
    t.storage.grants.create = async (grant) => {
      await gate;
      return create(grant);
    };
    const first = exchange(t, client.clientId, issued.code, issued.verifier);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const replay = await exchange(t, client.clientId, issued.code, issued.verifier);
    release();
    assert.equal((await errorOf(replay)).error, 'invalid_grant');
    const firstRes = await first;
    assert.equal(firstRes.status, 200);
    remember(t, (await firstRes.json()) as TokenBody);
    assert.notEqual((await t.storage.grants.get(issued.grantId))?.revokedAt, null);
  });

  it('SEC-15 an expired code is invalid_grant', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    t.clock.advance(t.ctx.config.authorizationCodeTtl * 1000 + 1);
    const res = await exchange(t, client.clientId, issued.code, issued.verifier);
    assert.equal((await errorOf(res)).error, 'invalid_grant');
  });

  it('SEC-15 the authorization code lifetime cannot be configured above 10 minutes', () => {
    assert.equal(resolveConfig({ authorizationCodeTtl: 600 }).authorizationCodeTtl, 600);
    assert.throws(() => resolveConfig({ authorizationCodeTtl: 601 }), /authorizationCodeTtl/);
    assert.ok(resolveConfig({}).authorizationCodeTtl <= 600);
  });

  it('SEC-17 a code issued to another client is invalid_grant and stays usable by its own client', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const { client: other } = await addClient(t);
    const issued = await addCode(t, client);
    const res = await exchange(t, other.clientId, issued.code, issued.verifier);
    assert.equal((await errorOf(res)).error, 'invalid_grant');
    await redeem(t, client, issued);
  });

  it('SEC-17 a confidential client redeems its code with client_secret_basic', async () => {
    const t = await setup();
    const { client, secret } = await addClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const issued = await addCode(t, client);
    const res = await post(t, '/token', { grant_type: 'authorization_code', code: issued.code, code_verifier: issued.verifier }, { basic: { id: client.clientId, secret: secret! } });
    assert.equal(res.status, 200);
    remember(t, (await res.json()) as TokenBody);
    assertNoSecretsLogged(t);
  });

  it('SEC-18 a redirect_uri that differs from the authorization request is invalid_grant; the same one or none is accepted', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    const otherPort = await exchange(t, client.clientId, issued.code, issued.verifier, { redirect_uri: 'http://127.0.0.1:40000/callback' });
    assert.equal((await errorOf(otherPort)).error, 'invalid_grant');
    const otherPath = await exchange(t, client.clientId, issued.code, issued.verifier, { redirect_uri: REDIRECT_URI + '/' });
    assert.equal((await errorOf(otherPath)).error, 'invalid_grant');
    await redeem(t, client, issued, { redirect_uri: REDIRECT_URI });
    await redeem(t, client, await addCode(t, client)); // OAuth 2.1: redirect_uri omitted
  });

  it('RFC 8707 §2.2 a resource other than the one bound to the code is invalid_target; the bound one is accepted', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    const res = await exchange(t, client.clientId, issued.code, issued.verifier, { resource: 'https://evil.example/mcp' });
    assert.equal((await errorOf(res)).error, 'invalid_target');
    const body = await redeem(t, client, issued, { resource: t.ctx.config.resource });
    assert.equal(decodeJwt(body.access_token).aud, t.ctx.config.resource);
  });

  it('RFC 6749 §5.2 a client not registered for authorization_code is unauthorized_client', async () => {
    const t = await setup();
    const { client } = await addClient(t, { grantTypes: ['refresh_token'] });
    const issued = await addCode(t, client);
    const res = await exchange(t, client.clientId, issued.code, issued.verifier);
    assert.equal((await errorOf(res)).error, 'unauthorized_client');
  });

  it('SEC-33 no refresh token is issued when the authorization did not allow one', async () => {
    const t = await setup();
    const { client } = await addClient(t, { grantTypes: ['authorization_code'] });
    const body = await redeem(t, client, await addCode(t, client, { scopes: ['tasks:read'], issueRefreshToken: false }));
    assert.equal(body.refresh_token, undefined);
    assert.equal(body.scope, 'tasks:read');
  });

  it('issue 2 part 6 re-authorizing one device never revokes another device\'s grant', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const laptop = await redeem(t, client, await addCode(t, client));
    const phone = await redeem(t, client, await addCode(t, client));
    assert.equal((await t.storage.grants.listForUser(t.user.id)).filter((g) => g.revokedAt === null).length, 2);
    const verifier = new LocalTokenVerifier(t.ctx);
    assert.equal((await verifier.verify(laptop.access_token)).ok, true);
    assert.equal((await refresh(t, client, laptop.refresh_token!)).status, 200);
    assert.equal((await refresh(t, client, phone.refresh_token!)).status, 200);
  });

  it('OIDC Core §3.1.3.6 the openid scope adds an id_token: typ JWT, aud = client, sub, nonce, auth_time, preferred_username', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client, { scopes: ['openid', 'tasks:read'], nonce: 'n-0S6_WzA2Mj' });
    const body = await redeem(t, client, issued);
    assert.ok(body.id_token);
    const claims = await verifyFromPublishedJwks(t, body.id_token, 'JWT');
    assert.equal(claims.aud, client.clientId);
    assert.equal(claims.sub, t.user.id);
    assert.equal(claims['nonce'], 'n-0S6_WzA2Mj');
    assert.equal(claims['preferred_username'], 'alice');
    assert.equal(claims['auth_time'], Math.floor((t.clock.now() - 5000) / 1000));
    assert.equal(claims.exp, claims.iat! + t.ctx.config.accessTokenTtl);
    // The access token cannot be mistaken for an ID token (SEC-54).
    assert.equal(decodeProtectedHeader(body.access_token).typ, 'at+jwt');
  });
});

describe('storage: authorizationCodes.peek / redeem', () => {
  it('SEC-16 peek reads without consuming; redeem consumes once and creates the grant in the same step', async () => {
    const t = await setup();
    const { client } = await addClient(t);
    const issued = await addCode(t, client);
    const now = t.clock.now();
    const hash = hashSecret(issued.code);
    assert.equal((await t.storage.authorizationCodes.peek(hash, now))?.consumed, false);
    assert.equal((await t.storage.authorizationCodes.peek(hash, now))?.consumed, false);
    const first = await t.storage.authorizationCodes.redeem(hash, now, now + 1000);
    assert.equal(first.status, 'ok');
    const grant = await t.storage.grants.get(issued.grantId);
    assert.deepEqual(grant, { id: issued.grantId, userId: t.user.id, clientId: client.clientId, scopes: ['tasks:read', 'offline_access'], resource: t.ctx.config.resource, createdAt: now, expiresAt: now + 1000, revokedAt: null });
    assert.equal((await t.storage.authorizationCodes.redeem(hash, now, now + 1000)).status, 'replayed');
    assert.equal((await t.storage.authorizationCodes.peek(hash, now + 3_600_000))?.consumed, true, 'a consumed code is still recognised');
    assert.equal(await t.storage.authorizationCodes.peek(hashSecret('pcc_unknown'), now), null);
    const expired = await addCode(t, client);
    assert.equal(await t.storage.authorizationCodes.peek(hashSecret(expired.code), now + 3_600_000), null);
    assert.equal((await t.storage.authorizationCodes.redeem(hashSecret(expired.code), now + 3_600_000, now)).status, 'invalid');
  });
});
