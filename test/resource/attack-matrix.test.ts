/**
 * Verifier attack matrix: every forged, misdirected or malformed credential is answered `401` with
 * the challenge RFC 6750 §3 / RFC 9728 §5.1 prescribe, and the answer is the same whatever the
 * reason (nothing says which check failed). Run through the resource server with the JWKS verifier
 * (a third-party authorization server) and through Portcullis's own MCP endpoint with the local one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportSPKI, importJWK, SignJWT } from 'jose';
import { withMcpAuth } from '../../src/adapters/fetch.ts';
import { createResourceServer } from '../../src/resource/resource-server.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { hs256Jwt, unsignedJwt } from '../fixtures/stytch/keys.ts';
import { initializeMessage, post } from '../mcp/wire.ts';
import { parseChallenge, signIn } from './fixtures.ts';
import { createIssuerKey, createTestIssuer } from './test-issuer.ts';

interface Target {
  /** Sends the MCP request with these headers (and an optional query string). */
  call(headers: Record<string, string>, query?: string): Promise<Response>;
  /** A token with the target's valid claims, `overrides` applied (`undefined` removes a claim), signed with its real key. */
  sign(overrides?: Record<string, unknown>): Promise<string>;
  /** The valid claims, for hand-made tokens. */
  claims(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** The verification key as PEM (the HMAC secret of an algorithm-confusion forgery). */
  publicPem(): Promise<string>;
  /** Seconds since the epoch, on the target's clock. */
  now(): number;
  /** A resource other than this one, at the same authorization server. */
  otherResource: string;
  prmUrl: string;
  challengeScope: string;
}

const enc = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function attackMatrix(name: string, setup: () => Promise<Target & { close?(): Promise<void> }>) {
  describe(`Attack matrix: ${name}`, () => {
    let target: Target & { close?(): Promise<void> };
    let reference: { header: string; body: string };
    before(async () => {
      target = await setup();
      const garbage = await target.call({ Authorization: 'Bearer garbage' });
      reference = { header: garbage.headers.get('WWW-Authenticate') ?? '', body: await garbage.text() };
    });
    after(() => target.close?.());

    const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

    /** 401 invalid_token, byte-identical to every other rejection: no reason leaks. */
    async function assertRefused(response: Response, token: string): Promise<void> {
      assert.equal(response.status, 401);
      const header = response.headers.get('WWW-Authenticate') ?? '';
      const body = await response.text();
      const { scheme, params } = parseChallenge(header);
      assert.equal(scheme, 'Bearer');
      assert.equal(params['error'], 'invalid_token');
      assert.equal(params['resource_metadata'], target.prmUrl);
      assert.equal(params['scope'], target.challengeScope);
      assert.equal(header, reference.header, 'the same challenge whatever failed');
      assert.equal(body, reference.body, 'the same body whatever failed');
      assert.equal(response.headers.get('Cache-Control'), 'no-store');
      assert.ok(!header.includes(token) && !body.includes(token), 'the token is not echoed');
    }

    /** 401 without an error attribute: no credentials were presented (RFC 6750 §3.1). */
    async function assertNoCredentials(response: Response): Promise<void> {
      assert.equal(response.status, 401);
      const { params } = parseChallenge(response.headers.get('WWW-Authenticate'));
      assert.deepEqual(params, { scope: target.challengeScope, resource_metadata: target.prmUrl });
      await response.body?.cancel();
    }

    it('control: a valid token is accepted', async () => {
      const response = await target.call(bearer(await target.sign()));
      assert.equal(response.status, 200);
      await response.body?.cancel();
    });

    it('RFC 8725 §3.1 alg: none', async () => {
      const token = unsignedJwt({ typ: 'at+jwt' }, target.claims());
      await assertRefused(await target.call(bearer(token)), token);
    });

    it('RFC 8725 §3.1 HS256 signed with the public key (algorithm confusion)', async () => {
      const token = hs256Jwt({ typ: 'at+jwt' }, target.claims(), await target.publicPem());
      await assertRefused(await target.call(bearer(token)), token);
    });

    it('RFC 9068 §4 wrong iss', async () => {
      const token = await target.sign({ iss: 'https://evil.example' });
      await assertRefused(await target.call(bearer(token)), token);
    });

    it('RFC 9068 §4 wrong aud', async () => {
      const token = await target.sign({ aud: 'account' });
      await assertRefused(await target.call(bearer(token)), token);
    });

    it('RS-08/RS-18 a token for another resource of the same authorization server', async () => {
      const token = await target.sign({ aud: target.otherResource });
      await assertRefused(await target.call(bearer(token)), token);
    });

    it('RS-09 expired', async () => {
      const token = await target.sign({ iat: target.now() - 7200, exp: target.now() - 3600 });
      await assertRefused(await target.call(bearer(token)), token);
    });

    it('RFC 7519 §4.1.5 nbf in the future', async () => {
      const token = await target.sign({ nbf: target.now() + 600 });
      await assertRefused(await target.call(bearer(token)), token);
    });

    it('RFC 9068 §2.2 no exp', async () => {
      const token = await target.sign({ exp: undefined });
      await assertRefused(await target.call(bearer(token)), token);
    });

    it('RFC 7515 unknown kid', async () => {
      const attacker = await createIssuerKey();
      const token = await new SignJWT(target.claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'no-such-key' }).sign(attacker.privateKey);
      await assertRefused(await target.call(bearer(token)), token);
    });

    it('RFC 8725 §3.10 jku, x5u and embedded jwk headers are ignored: a token signed by the key they advertise is refused', async () => {
      const attacker = await createIssuerKey();
      for (const extra of [{ jku: 'https://evil.example/jwks' }, { x5u: 'https://evil.example/cert.pem' }, { jwk: attacker.publicJwk }]) {
        const token = await new SignJWT(target.claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: attacker.kid, ...extra }).sign(attacker.privateKey);
        await assertRefused(await target.call(bearer(token)), token);
      }
    });

    it('oversized: a token over 8 KiB is refused unread, even if its signature is good', async () => {
      const token = await target.sign({ padding: 'x'.repeat(9 * 1024) });
      assert.ok(token.length > 8 * 1024);
      await assertRefused(await target.call(bearer(token)), token);
    });

    it('non-JWT garbage', async () => {
      for (const token of ['not-a-jwt', 'a.b.c', `${enc({ alg: 'ES256' })}.${enc('string payload')}.sig`]) {
        await assertRefused(await target.call(bearer(token)), token);
      }
    });

    it('RS-21 a bearer token in the query string is never accepted: 401 as if none was sent (SEC-44)', async () => {
      const token = await target.sign();
      await assertNoCredentials(await target.call({}, `?access_token=${token}`));
    });

    it('RFC 6750 §2.1 the Basic scheme is not a bearer token: 401 without an error attribute', async () => {
      await assertNoCredentials(await target.call({ Authorization: 'Basic dXNlcjpwYXNzd29yZA==' }));
    });

    it('RFC 7235 §2.1 lowercase bearer is accepted', async () => {
      const response = await target.call({ Authorization: `bearer ${await target.sign()}` });
      assert.equal(response.status, 200);
      await response.body?.cancel();
    });
  });
}

attackMatrix('resource server with the JWKS verifier', async () => {
  const as = await createTestIssuer();
  const rs = createResourceServer({ resource: as.resource, authorizationServers: [as.issuer], verifier: as.verifier(), challengeScopes: ['tasks:read'] });
  const handler = withMcpAuth(() => new Response('ok'), { resourceServer: rs });
  return {
    call: (headers, query = '') => handler(new Request(`${as.resource}${query}`, { method: 'POST', headers })),
    sign: (overrides) => as.sign({ claims: overrides }),
    claims: (overrides) => as.claims(overrides),
    publicPem: async () => exportSPKI(await importJWK(as.currentKey.publicJwk, 'ES256') as CryptoKey),
    now: () => Math.floor(as.clock.now() / 1000),
    otherResource: 'https://mcp.example/other-mcp',
    prmUrl: 'https://mcp.example/.well-known/oauth-protected-resource/mcp',
    challengeScope: 'tasks:read',
  };
});

attackMatrix('Portcullis MCP endpoint with the local verifier', async () => {
  const t: TestApp = await createTestApp();
  const who = await signIn(t);
  const claims = (overrides: Record<string, unknown> = {}) => {
    const iat = Math.floor(t.clock.now() / 1000);
    const base: Record<string, unknown> = { iss: t.ctx.config.issuer, sub: who.user.id, aud: t.ctx.config.resource, client_id: who.clientId, scope: 'tasks:read', iat, exp: iat + 3600, jti: crypto.randomUUID(), gid: who.grantId };
    for (const [k, v] of Object.entries(overrides)) {
      if (v === undefined) delete base[k];
      else base[k] = v;
    }
    return base;
  };
  return {
    call: (headers, query = '') => post(t, initializeMessage(), headers, `${t.ctx.config.mcpPath}${query}`),
    sign: (overrides) => t.ctx.keys.sign(claims(overrides), 'at+jwt'),
    claims,
    publicPem: async () => exportSPKI((await importJWK(t.ctx.keys.jwks().keys[0]!, t.ctx.keys.jwks().keys[0]!.alg)) as CryptoKey),
    now: () => Math.floor(t.clock.now() / 1000),
    otherResource: `${t.ctx.config.issuer}/other-mcp`,
    prmUrl: `${t.ctx.config.issuer}/.well-known/oauth-protected-resource/mcp`,
    challengeScope: 'tasks:read tasks:write',
    close: () => t.close(),
  };
});
