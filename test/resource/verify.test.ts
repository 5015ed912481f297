import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { LocalTokenVerifier } from '../../src/resource/verify-local.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { initializeMessage, post } from '../mcp/wire.ts';
import { parseChallenge, signIn, type SignedIn } from './fixtures.ts';

const PRM_URL = 'http://localhost:3000/.well-known/oauth-protected-resource/mcp';
const GENERIC = 'The access token is invalid, expired or revoked.';

/** The claims our tokens carry, so a test can change exactly one. */
function claims(t: TestApp, who: SignedIn, overrides: Record<string, unknown> = {}) {
  const iat = Math.floor(t.clock.now() / 1000);
  return {
    iss: t.ctx.config.issuer,
    sub: who.user.id,
    aud: t.ctx.config.resource,
    client_id: who.clientId,
    scope: 'tasks:read',
    iat,
    exp: iat + 3600,
    jti: 'jti-' + Math.random().toString(36).slice(2),
    gid: who.grantId,
    ...overrides,
  };
}

/** `reason`: why the verifier refused it, as logged at debug level (never sent to the client). */
async function assertInvalidToken(t: TestApp, response: Response, token: string, reason: string): Promise<void> {
  assert.equal(response.status, 401);
  const logged = t.logger.records().filter((r) => r['msg'] === 'access token rejected').at(-1);
  assert.equal(logged?.['reason'], reason);
  const { scheme, params } = parseChallenge(response.headers.get('WWW-Authenticate'));
  assert.equal(scheme, 'Bearer');
  assert.equal(params['error'], 'invalid_token');
  assert.equal(params['error_description'], GENERIC, 'the description never says which check failed');
  assert.equal(params['resource_metadata'], PRM_URL);
  assert.deepEqual(await response.json(), { error: 'invalid_token', error_description: GENERIC });
  assert.ok(!t.logger.lines.some((l) => l.includes(token)), 'the token is never logged');
}

async function assertNoCredentialsChallenge(response: Response): Promise<void> {
  assert.equal(response.status, 401);
  const { scheme, params } = parseChallenge(response.headers.get('WWW-Authenticate'));
  assert.equal(scheme, 'Bearer');
  assert.deepEqual(params, { scope: 'tasks:read tasks:write', resource_metadata: PRM_URL });
  assert.equal(((await response.json()) as { error?: unknown }).error, undefined);
}

describe('Access token verification at the MCP endpoint (RS-07..RS-11, RFC 6750 §3.1)', () => {
  let t: TestApp;
  let who: SignedIn;
  before(async () => {
    t = await createTestApp();
    who = await signIn(t);
  });
  after(() => t.close());

  it('RS-03b/RS-04 no credentials: 401 with resource_metadata and scope, and no error attribute', async () => {
    await assertNoCredentialsChallenge(await post(t, initializeMessage()));
  });

  it('RS-21 a token in the query string is ignored: 401 as if none was sent', async () => {
    await assertNoCredentialsChallenge(await post(t, initializeMessage(), {}, `/mcp?access_token=${who.token}`));
  });

  it('RFC 6750 §2.1 the Basic scheme is not a bearer token: 401 without an error attribute', async () => {
    await assertNoCredentialsChallenge(await post(t, initializeMessage(), { Authorization: 'Basic dXNlcjpwYXNzd29yZA==' }));
  });

  it('RFC 7235 §2.1 a lowercase bearer scheme is accepted', async () => {
    const response = await post(t, initializeMessage(), { Authorization: `bearer ${who.token}` });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  });

  it('RS-09 an expired token gets 401 invalid_token', async () => {
    const t2 = await createTestApp({ accessTokenTtl: 60 });
    const who2 = await signIn(t2);
    const ok = await post(t2, initializeMessage(), who2.auth);
    assert.equal(ok.status, 200, 'accepted (and cached) while valid');
    await ok.body?.cancel();
    t2.clock.advance(61_000);
    await assertInvalidToken(t2, await post(t2, initializeMessage(), who2.auth), who2.token, 'expired');
    await t2.close();
  });

  it('RS-08/RS-18 a token for another audience gets 401 invalid_token', async () => {
    const token = await t.ctx.keys.sign(claims(t, who, { aud: 'http://localhost:3000/other' }), 'at+jwt');
    await assertInvalidToken(t, await post(t, initializeMessage(), { Authorization: `Bearer ${token}` }), token, 'wrong_audience');
  });

  it('RFC 9068 §4 a token from another issuer gets 401 invalid_token', async () => {
    const token = await t.ctx.keys.sign(claims(t, who, { iss: 'http://evil.example' }), 'at+jwt');
    await assertInvalidToken(t, await post(t, initializeMessage(), { Authorization: `Bearer ${token}` }), token, 'wrong_issuer');
  });

  it('RFC 9068 §4 a JWT that is not typed at+jwt (e.g. an ID token) gets 401 invalid_token', async () => {
    const token = await t.ctx.keys.sign(claims(t, who), 'JWT');
    await assertInvalidToken(t, await post(t, initializeMessage(), { Authorization: `Bearer ${token}` }), token, 'wrong_typ');
  });

  it('RFC 9068 §4 a token without exp gets 401 invalid_token', async () => {
    const { exp: _exp, ...noExp } = claims(t, who);
    const token = await t.ctx.keys.sign(noExp, 'at+jwt');
    await assertInvalidToken(t, await post(t, initializeMessage(), { Authorization: `Bearer ${token}` }), token, 'missing_claim');
  });

  it('RFC 7515 a tampered signature gets 401 invalid_token', async () => {
    const [header, payload, signature] = who.token.split('.') as [string, string, string];
    const flipped = signature.startsWith('A') ? 'B' + signature.slice(1) : 'A' + signature.slice(1);
    const token = `${header}.${payload}.${flipped}`;
    await assertInvalidToken(t, await post(t, initializeMessage(), { Authorization: `Bearer ${token}` }), token, 'bad_signature');
  });

  it('RFC 7515 changed claims under the original signature get 401 invalid_token', async () => {
    const [header, , signature] = who.token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify(claims(t, who, { scope: 'tasks:read tasks:write' }))).toString('base64url');
    const token = `${header}.${forged}.${signature}`;
    await assertInvalidToken(t, await post(t, initializeMessage(), { Authorization: `Bearer ${token}` }), token, 'bad_signature');
  });

  it('RFC 8725 §3.1 alg none is refused', async () => {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const token = `${enc({ alg: 'none', typ: 'at+jwt' })}.${enc(claims(t, who))}.`;
    await assertInvalidToken(t, await post(t, initializeMessage(), { Authorization: `Bearer ${token}` }), token, 'alg_not_allowed');
  });

  it('RFC 8725 §3.1 an HMAC-signed token (algorithm confusion) is refused', async () => {
    const token = await new SignJWT(claims(t, who)).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(new TextEncoder().encode('x'.repeat(32)));
    await assertInvalidToken(t, await post(t, initializeMessage(), { Authorization: `Bearer ${token}` }), token, 'alg_not_allowed');
  });

  it('RS-10 a token signed by a key not in our JWKS is refused', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const kid = t.ctx.keys.activeKid; // even when it claims one of our key ids
    const token = await new SignJWT(claims(t, who)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).sign(privateKey);
    await assertInvalidToken(t, await post(t, initializeMessage(), { Authorization: `Bearer ${token}` }), token, 'bad_signature');
  });

  it('a token that is not a JWT gets 401 invalid_token', async () => {
    await assertInvalidToken(t, await post(t, initializeMessage(), { Authorization: 'Bearer not-a-jwt' }), 'not-a-jwt', 'malformed');
  });

  it('a revoked grant is refused at once (401), even though its token was verified and cached', async () => {
    const who2 = await signIn(t, { username: 'carol' });
    const ok = await post(t, initializeMessage(), who2.auth);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    await t.ctx.grants.revoke(who2.grantId, t.clock.now());
    await assertInvalidToken(t, await post(t, initializeMessage(), who2.auth), who2.token, 'grant_not_live');
  });

  it('a grant revoked elsewhere (another instance) is refused within the grant-status cache time', async () => {
    const who2 = await signIn(t, { username: 'dave' });
    const ok = await post(t, initializeMessage(), who2.auth);
    await ok.body?.cancel();
    await t.ctx.storage.grants.revoke(who2.grantId, t.clock.now());
    t.clock.advance(6_000);
    await assertInvalidToken(t, await post(t, initializeMessage(), who2.auth), who2.token, 'grant_not_live');
  });
});

describe('LocalTokenVerifier', () => {
  it('serves a verified token from the cache without verifying the signature again, but checks the grant every time', async () => {
    const t = await createTestApp();
    const who = await signIn(t);
    let published = t.ctx.keys.jwks();
    const keys = { jwks: () => published, reload: async () => {} } as unknown as TestApp['ctx']['keys'];
    const verifier = new LocalTokenVerifier({ ...t.ctx, keys });
    assert.equal((await verifier.verify(who.token)).ok, true);

    published = { keys: [] }; // no key could verify it now: only the cache can say yes
    const cached = await verifier.verify(who.token);
    assert.equal(cached.ok, true);
    assert.equal(cached.ok && cached.token.subject, who.user.id);

    const other = await signIn(t, { username: 'bob' });
    const refused = await verifier.verify(other.token);
    assert.equal(refused.ok === false && refused.reason, 'unknown_key');

    t.ctx.grants.markRevoked(who.grantId);
    assert.deepEqual(await verifier.verify(who.token), { ok: false, reason: 'grant_not_live' });
  });

  it('picks up a rotated key: a token signed after rotation verifies', async () => {
    const t = await createTestApp();
    const verifier = new LocalTokenVerifier(t.ctx);
    const before = await signIn(t);
    assert.equal((await verifier.verify(before.token)).ok, true);
    await t.ctx.keys.rotate(3_600_000);
    const afterRotation = await signIn(t, { username: 'bob' });
    assert.equal((await verifier.verify(afterRotation.token)).ok, true);
    assert.equal((await verifier.verify(before.token)).ok, true, 'the retired key stays published and valid');
  });
});
