import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { VerifierUnavailableError, type VerifyResult } from '../../src/resource/types.ts';
import { createJwksVerifier } from '../../src/resource/verifiers/jwks.ts';
import { metadataUrls } from '../../src/resource/verifiers/discovery.ts';
import { createTestApp } from '../helpers/app.ts';
import { inProcessFetch } from '../helpers/oauth-flow.ts';
import { signIn } from './fixtures.ts';
import { createIssuerKey, createTestIssuer } from './test-issuer.ts';

const reason = (r: VerifyResult) => (r.ok ? 'ok' : r.reason);

describe('JWKS verifier (RFC 9068 §4)', () => {
  it('RFC 9068 §4 accepts a valid at+jwt token and maps sub, client_id, scope and exp', async () => {
    const as = await createTestIssuer();
    const token = await as.sign({ claims: { scope: 'tasks:read tasks:write' } });
    const result = await as.verifier().verify(token);
    assert.ok(result.ok);
    assert.equal(result.token.subject, 'user-1');
    assert.equal(result.token.clientId, 'client-1');
    assert.deepEqual(result.token.scopes, ['tasks:read', 'tasks:write']);
    assert.equal(result.token.expiresAt, as.clock.now() / 1000 + 3600);
    assert.equal(result.token.claims['iss'], as.issuer);
  });

  it('accepts the claim spellings other servers use: azp for client_id, scp as an array', async () => {
    const as = await createTestIssuer();
    const token = await as.sign({ claims: { client_id: undefined, azp: 'kc-client', scope: undefined, scp: ['a', 'b'] } });
    const result = await as.verifier().verify(token);
    assert.ok(result.ok);
    assert.equal(result.token.clientId, 'kc-client');
    assert.deepEqual(result.token.scopes, ['a', 'b']);
  });

  it('RFC 9068 §2.2 refuses a token without sub or client_id', async () => {
    const as = await createTestIssuer();
    const verifier = as.verifier({ cache: false });
    assert.equal(reason(await verifier.verify(await as.sign({ claims: { sub: undefined } }))), 'missing_claim');
    assert.equal(reason(await verifier.verify(await as.sign({ claims: { client_id: undefined } }))), 'missing_claim');
  });

  describe('keys from discovery', () => {
    it('RFC 8414 §3.1 metadata locations: path-inserted first, then OpenID Connect discovery', () => {
      assert.deepEqual(metadataUrls('https://as.example'), ['https://as.example/.well-known/oauth-authorization-server', 'https://as.example/.well-known/openid-configuration']);
      assert.deepEqual(metadataUrls('https://as.example/tenant/1'), [
        'https://as.example/.well-known/oauth-authorization-server/tenant/1',
        'https://as.example/.well-known/openid-configuration/tenant/1',
        'https://as.example/tenant/1/.well-known/openid-configuration',
      ]);
    });

    it('RFC 8414 §3 finds jwks_uri in the authorization server metadata, once', async () => {
      const as = await createTestIssuer();
      const verifier = as.verifier({ cache: false });
      assert.ok((await verifier.verify(await as.sign())).ok);
      assert.ok((await verifier.verify(await as.sign())).ok);
      assert.deepEqual(as.requests, ['/.well-known/oauth-authorization-server', '/jwks']);
    });

    it('OIDC Discovery §4 is the fallback when there is no RFC 8414 document', async () => {
      const as = await createTestIssuer({ discovery: 'oidc' });
      assert.ok((await as.verifier().verify(await as.sign())).ok);
      assert.deepEqual(as.requests, ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/jwks']);
    });

    it('RFC 8414 §3.3 metadata naming another issuer is not used: the verifier is unavailable, the token not accepted', async () => {
      const as = await createTestIssuer({ metadataIssuer: 'https://as.example/' });
      await assert.rejects(as.verifier().verify(await as.sign()), VerifierUnavailableError);
      assert.ok(!as.requests.includes('/jwks'), 'no keys fetched from a mismatched document');
    });

    it('RFC 8414 §2 a plain-http jwks_uri in https metadata is not used: keys over http could be swapped on the way', async () => {
      const as = await createTestIssuer({ metadataJwksUri: 'http://as.example/jwks' });
      await assert.rejects(as.verifier().verify(await as.sign()), VerifierUnavailableError);
      assert.ok(!as.requests.includes('/jwks'), 'no keys fetched over http');
    });

    it('an issuer not configured costs no request at all', async () => {
      const as = await createTestIssuer();
      const token = await as.sign({ claims: { iss: 'https://evil.example' } });
      assert.equal(reason(await as.verifier().verify(token)), 'wrong_issuer');
      assert.deepEqual(as.requests, []);
    });

    it('with jwksUrl configured there is no discovery', async () => {
      const as = await createTestIssuer({ discovery: 'none' });
      assert.ok((await as.verifier({ jwksUrl: `${as.issuer}/jwks` }).verify(await as.sign())).ok);
      assert.deepEqual(as.requests, ['/jwks']);
    });

    it('several issuers: each token is checked against its own issuer\'s keys', async () => {
      const a = await createTestIssuer({ issuer: 'https://a.example' });
      const b = await createTestIssuer({ issuer: 'https://b.example', clock: a.clock });
      const fetchBoth = (async (input: string | URL | Request, init?: RequestInit) =>
        String(input instanceof Request ? input.url : input).startsWith('https://a.example') ? a.fetch(input, init) : b.fetch(input, init)) as typeof fetch;
      const verifier = createJwksVerifier({ issuer: [a.issuer, b.issuer], audience: a.resource, fetch: fetchBoth, clock: a.clock, cache: false });
      assert.ok((await verifier.verify(await a.sign())).ok);
      assert.ok((await verifier.verify(await b.sign())).ok);
      // Issuer b's name on a token signed with issuer a's key (same kid even): refused.
      const crossed = await a.sign({ claims: { iss: b.issuer }, header: { kid: b.currentKey.kid } });
      assert.equal(reason(await verifier.verify(crossed)), 'bad_signature');
    });
  });

  describe('JWKS cache', () => {
    it('RFC 7517 key rotation: an unknown kid refetches the JWKS, at most once per cooldown', async () => {
      const as = await createTestIssuer();
      const verifier = as.verifier({ cache: false, jwksCooldownMs: 30_000 });
      assert.ok((await verifier.verify(await as.sign())).ok);
      const fetches = () => as.requests.filter((p) => p === '/jwks').length;
      assert.equal(fetches(), 1);

      const bogus = await as.sign({ header: { kid: 'no-such-key' } });
      assert.equal(reason(await verifier.verify(bogus)), 'unknown_key');
      assert.equal(fetches(), 1, 'within the cooldown after the first fetch: no refetch');

      as.clock.advance(30_000);
      assert.equal(reason(await verifier.verify(bogus)), 'unknown_key');
      assert.equal(fetches(), 2, 'after the cooldown: one refetch');
      assert.equal(reason(await verifier.verify(bogus)), 'unknown_key');
      assert.equal(fetches(), 2, 'and then none again');

      as.clock.advance(30_000);
      await as.rotate();
      assert.ok((await verifier.verify(await as.sign())).ok, 'a token signed with the new key verifies after one refetch');
      assert.equal(fetches(), 3);
    });

    it('keys older than jwksCacheMaxAgeMs are refetched; a retired key stops working then', async () => {
      const as = await createTestIssuer();
      const verifier = as.verifier({ cache: false, jwksCacheMaxAgeMs: 600_000 });
      const old = as.currentKey;
      const token = await as.sign({ claims: { exp: Math.floor(as.clock.now() / 1000) + 7200 } });
      assert.ok((await verifier.verify(token)).ok);
      await as.rotate();
      as.retire(old.kid);
      as.clock.advance(599_000);
      assert.ok((await verifier.verify(token)).ok, 'still the cached key set');
      as.clock.advance(1_000);
      assert.equal(reason(await verifier.verify(token)), 'unknown_key');
    });

    it('when a refresh fails, the keys already fetched keep working; with none, the verifier is unavailable', async () => {
      const as = await createTestIssuer();
      const verifier = as.verifier({ cache: false });
      const token = await as.sign({ claims: { exp: Math.floor(as.clock.now() / 1000) + 7200 } });
      assert.ok((await verifier.verify(token)).ok);
      as.jwksBehaviour.status = 503;
      as.clock.advance(11 * 60_000);
      assert.ok((await verifier.verify(token)).ok);

      const fresh = await createTestIssuer();
      fresh.jwksBehaviour.status = 500;
      const unavailable = fresh.verifier();
      await assert.rejects(unavailable.verify(await fresh.sign()), VerifierUnavailableError);
      const before = fresh.requests.length;
      await assert.rejects(unavailable.verify(await fresh.sign()), VerifierUnavailableError);
      assert.equal(fresh.requests.length, before, 'no new fetch within the cooldown after a failure');
    });

    it('a JWKS response larger than maxBytes, or a redirect, is not used', async () => {
      const big = await createTestIssuer();
      big.jwksBehaviour.padding = 10_000;
      await assert.rejects(big.verifier({ maxBytes: 4_096 }).verify(await big.sign()), VerifierUnavailableError);

      const moved = await createTestIssuer();
      moved.jwksBehaviour.location = 'https://as.example/elsewhere';
      await assert.rejects(moved.verifier().verify(await moved.sign()), VerifierUnavailableError);
      assert.ok(!moved.requests.includes('/elsewhere'), 'redirects are not followed');
    });
  });

  describe('checks', () => {
    it('RFC 8725 §3.1 the algorithm allow-list holds only asymmetric algorithms: none and HS256 are refused at construction', () => {
      for (const alg of ['none', 'HS256', 'HS512', 'RSA-OAEP']) {
        assert.throws(() => createJwksVerifier({ issuer: 'https://as.example', audience: 'https://mcp.example/mcp', algorithms: [alg] }), TypeError, alg);
      }
    });

    it('RFC 8725 §3.1 a token whose alg is not in the allow-list is refused', async () => {
      const as = await createTestIssuer();
      const token = await as.sign();
      assert.equal(reason(await as.verifier({ algorithms: ['RS256'], cache: false }).verify(token)), 'alg_not_allowed');
      assert.ok((await as.verifier({ algorithms: ['ES256'], cache: false }).verify(token)).ok);
    });

    it('RFC 9068 §2.1 typ is at+jwt by default; JWT, a list, or no check can be configured', async () => {
      const as = await createTestIssuer();
      const jwtTyped = await as.sign({ header: { typ: 'JWT' } });
      const untyped = await as.sign({ header: { typ: undefined } });
      const atJwt = await as.sign({ header: { typ: 'application/at+jwt' } });
      assert.equal(reason(await as.verifier({ cache: false }).verify(jwtTyped)), 'wrong_typ');
      assert.equal(reason(await as.verifier({ cache: false }).verify(untyped)), 'wrong_typ');
      assert.equal(reason(await as.verifier({ cache: false }).verify(atJwt)), 'ok', 'media type spelled out');
      assert.equal(reason(await as.verifier({ cache: false, typ: 'JWT' }).verify(jwtTyped)), 'ok');
      assert.equal(reason(await as.verifier({ cache: false, typ: ['at+jwt', 'JWT'] }).verify(jwtTyped)), 'ok');
      assert.equal(reason(await as.verifier({ cache: false, typ: ['at+jwt', 'JWT'] }).verify(untyped)), 'wrong_typ');
      assert.equal(reason(await as.verifier({ cache: false, typ: false }).verify(untyped)), 'ok');
    });

    it('clockToleranceSeconds is leeway for exp and nbf', async () => {
      const as = await createTestIssuer();
      const now = Math.floor(as.clock.now() / 1000);
      const expired = await as.sign({ claims: { exp: now - 10 } });
      const early = await as.sign({ claims: { nbf: now + 10 } });
      assert.equal(reason(await as.verifier({ cache: false }).verify(expired)), 'expired');
      assert.equal(reason(await as.verifier({ cache: false }).verify(early)), 'not_yet_valid');
      assert.equal(reason(await as.verifier({ cache: false, clockToleranceSeconds: 30 }).verify(expired)), 'ok');
      assert.equal(reason(await as.verifier({ cache: false, clockToleranceSeconds: 30 }).verify(early)), 'ok');
    });

    it('RFC 8707 several audiences configured: any one of them in aud is enough', async () => {
      const as = await createTestIssuer();
      const token = await as.sign({ claims: { aud: ['https://other.example', 'https://mcp.example/sse'] } });
      assert.equal(reason(await as.verifier({ cache: false }).verify(token)), 'wrong_audience');
      assert.equal(reason(await as.verifier({ cache: false, audience: [as.resource, 'https://mcp.example/sse'] }).verify(token)), 'ok');
    });
  });

  it('verified-token cache: an accepted token is remembered (even after its key is gone) until exp, never past it', async () => {
    const as = await createTestIssuer();
    const exp = Math.floor(as.clock.now() / 1000) + 1800;
    const token = await as.sign({ claims: { exp } });
    const cached = as.verifier({ cache: { maxAgeMs: 3_600_000 } });
    const uncached = as.verifier({ cache: false });
    assert.ok((await cached.verify(token)).ok);
    assert.ok((await uncached.verify(token)).ok);
    const original = as.currentKey;
    await as.rotate();
    as.retire(original.kid);
    as.clock.advance(11 * 60_000); // both key sets are stale now and refetch a JWKS without the old key
    assert.equal(reason(await uncached.verify(token)), 'unknown_key');
    assert.equal(reason(await cached.verify(token)), 'ok', 'served from the cache');
    as.clock.set(exp * 1000);
    assert.equal((await cached.verify(token)).ok, false, 'at exp the entry is gone and the token is checked (and refused) again');
  });

  it('verifies the access tokens of a Portcullis authorization server (as a third party would, through its metadata)', async () => {
    const t = await createTestApp();
    const who = await signIn(t);
    const verifier = createJwksVerifier({ issuer: t.ctx.config.issuer, audience: t.ctx.config.resource, fetch: inProcessFetch(t.app) as typeof fetch, clock: t.clock });
    const result = await verifier.verify(who.token);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.token.subject, who.user.id);
    assert.equal(result.token.clientId, who.clientId);
  });

  it('RFC 8725 §3.10 keys named by jku, x5u or an embedded jwk are never fetched or trusted', async () => {
    const as = await createTestIssuer();
    const attacker = await createIssuerKey();
    const token = await new SignJWT(as.claims())
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: attacker.kid, jku: 'https://as.example/attacker-jwks', x5u: 'https://as.example/attacker.pem', jwk: attacker.publicJwk })
      .sign(attacker.privateKey);
    assert.equal(reason(await as.verifier().verify(token)), 'unknown_key');
    assert.ok(!as.requests.some((p) => p.startsWith('/attacker')), 'nothing fetched from the header URLs');
  });
});
