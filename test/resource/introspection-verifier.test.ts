import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { VerifierUnavailableError, type VerifyResult } from '../../src/resource/types.ts';
import { createIntrospectionVerifier, type IntrospectionVerifierOptions } from '../../src/resource/verifiers/introspection.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { hashSecret } from '../../src/util/crypto.ts';
import { createTestApp } from '../helpers/app.ts';
import { inProcessFetch } from '../helpers/oauth-flow.ts';
import { clientRecord } from '../helpers/records.ts';
import { signIn } from './fixtures.ts';
import { createResourceServer } from '../../src/resource/resource-server.ts';
import { assertDpopChallenge, craftProof, createDpopClientKey, dpopAuth } from '../dpop/dpop-client.ts';

const ISSUER = 'https://as.example';
const RESOURCE = 'https://mcp.example/mcp';
const reason = (r: VerifyResult) => (r.ok ? 'ok' : r.reason);

/**
 * An RFC 7662 endpoint answering from a table of tokens, checking the resource server's client
 * credentials as RFC 7662 §2.1 requires, and recording every call.
 */
function introspectionServer(clock: ManualClock) {
  const answers = new Map<string, Record<string, unknown>>();
  const calls: { authorization: string | null; form: Record<string, string> }[] = [];
  let status = 200;
  const app = new Hono();
  app.get('/.well-known/oauth-authorization-server', (c) => c.json({ issuer: ISSUER, introspection_endpoint: `${ISSUER}/oauth/introspect` }));
  app.post('/oauth/introspect', async (c) => {
    const form = Object.fromEntries(new URLSearchParams(await c.req.text()));
    const authorization = c.req.header('Authorization') ?? null;
    calls.push({ authorization, form });
    if (status !== 200) return c.json({ error: 'temporarily_unavailable' }, status as 503);
    const basicOk = authorization === `Basic ${btoa('rs%3A1:s%C3%A9cret%2B')}`;
    const postOk = form['client_id'] === 'rs:1' && form['client_secret'] === 'sécret+';
    if (!basicOk && !postOk) return c.json({ error: 'invalid_client' }, 401);
    return c.json(answers.get(form['token'] ?? '') ?? { active: false });
  });
  const now = () => Math.floor(clock.now() / 1000);
  return {
    fetch: inProcessFetch(app) as typeof fetch,
    calls,
    setStatus: (s: number) => (status = s),
    /** An active access token for this resource, with `overrides`. */
    add(token: string, overrides: Record<string, unknown> = {}) {
      answers.set(token, { active: true, sub: 'user-1', client_id: 'client-1', scope: 'tasks:read', aud: RESOURCE, iss: ISSUER, exp: now() + 3600, iat: now(), token_type: 'Bearer', ...overrides });
    },
    deactivate: (token: string) => answers.set(token, { active: false }),
  };
}

function setup(options: Partial<IntrospectionVerifierOptions> = {}) {
  const clock = new ManualClock(Date.UTC(2026, 2, 1));
  const server = introspectionServer(clock);
  const verifier = createIntrospectionVerifier({
    endpoint: `${ISSUER}/oauth/introspect`,
    issuer: ISSUER,
    clientId: 'rs:1',
    clientSecret: 'sécret+',
    audience: RESOURCE,
    fetch: server.fetch,
    clock,
    ...options,
  });
  return { clock, server, verifier };
}

describe('Introspection verifier (RFC 7662)', () => {
  it('RFC 7662 §2.1 posts the token with client_secret_basic (credentials form-encoded first, RFC 6749 §2.3.1)', async () => {
    const { server, verifier } = setup();
    server.add('opaque-1');
    const result = await verifier.verify('opaque-1');
    assert.ok(result.ok);
    assert.deepEqual({ subject: result.token.subject, clientId: result.token.clientId, scopes: result.token.scopes }, { subject: 'user-1', clientId: 'client-1', scopes: ['tasks:read'] });
    assert.deepEqual(server.calls[0]?.form, { token: 'opaque-1', token_type_hint: 'access_token' });
  });

  it('RFC 7662 §2.1 client_secret_post puts the credentials in the form instead', async () => {
    const { server, verifier } = setup({ clientAuthMethod: 'client_secret_post' });
    server.add('opaque-1');
    assert.ok((await verifier.verify('opaque-1')).ok);
    assert.equal(server.calls[0]?.authorization, null);
    assert.equal(server.calls[0]?.form['client_id'], 'rs:1');
  });

  it('RFC 7662 §2.2 an inactive token is refused', async () => {
    const { verifier } = setup();
    assert.equal(reason(await verifier.verify('unknown')), 'inactive');
  });

  it('a refresh token (token_type refresh_token) is not accepted as an access token', async () => {
    const { server, verifier } = setup();
    server.add('refresh-1', { token_type: 'refresh_token' });
    assert.equal(reason(await verifier.verify('refresh-1')), 'inactive');
  });

  it('RS-08 aud, when returned, must contain this resource; requireAudience refuses answers without aud', async () => {
    const { server, verifier } = setup();
    server.add('other', { aud: ['https://other.example/mcp'] });
    server.add('list', { aud: ['https://other.example/mcp', RESOURCE] });
    server.add('none', { aud: undefined });
    assert.equal(reason(await verifier.verify('other')), 'wrong_audience');
    assert.equal(reason(await verifier.verify('list')), 'ok');
    assert.equal(reason(await verifier.verify('none')), 'ok');
    const strict = setup({ requireAudience: true });
    strict.server.add('none', { aud: undefined });
    assert.equal(reason(await strict.verifier.verify('none')), 'wrong_audience');
  });

  it('iss, when returned, must be the configured issuer; exp must be present and in the future', async () => {
    const { server, verifier, clock } = setup();
    server.add('foreign', { iss: 'https://evil.example' });
    server.add('no-exp', { exp: undefined });
    server.add('expired', { exp: Math.floor(clock.now() / 1000) - 1 });
    assert.equal(reason(await verifier.verify('foreign')), 'wrong_issuer');
    assert.equal(reason(await verifier.verify('no-exp')), 'missing_claim');
    assert.equal(reason(await verifier.verify('expired')), 'expired');
  });

  it('an active answer is reused for cacheTtlMs (default 30 s), never past exp; then a revocation shows', async () => {
    const { server, verifier, clock } = setup();
    server.add('t');
    assert.ok((await verifier.verify('t')).ok);
    server.deactivate('t');
    clock.advance(29_000);
    assert.ok((await verifier.verify('t')).ok, 'cached');
    assert.equal(server.calls.length, 1);
    clock.advance(1_000);
    assert.equal(reason(await verifier.verify('t')), 'inactive');

    const short = setup({ cacheTtlMs: 60_000 });
    short.server.add('soon', { exp: Math.floor(short.clock.now() / 1000) + 10 });
    assert.ok((await short.verifier.verify('soon')).ok);
    short.clock.advance(10_000);
    assert.equal(reason(await short.verifier.verify('soon')), 'expired', 'not cached past exp');
    assert.equal(short.server.calls.length, 2);
  });

  it('an endpoint that fails (5xx, wrong credentials) makes the verifier unavailable, not the token invalid', async () => {
    const { server, verifier } = setup();
    server.setStatus(503);
    await assert.rejects(verifier.verify('t'), VerifierUnavailableError);
    const wrong = setup({ clientSecret: 'nope' });
    await assert.rejects(wrong.verifier.verify('t'), VerifierUnavailableError);
  });

  it('RFC 8414 the endpoint can be discovered from the issuer metadata', async () => {
    const { server, verifier } = setup({ endpoint: undefined });
    server.add('opaque-1');
    assert.ok((await verifier.verify('opaque-1')).ok);
  });

  it('RFC 9449 §6.2 an introspection answer\'s cnf reaches the claims: the resource server then wants the DPoP proof', async () => {
    const { server, verifier } = setup();
    const key = await createDpopClientKey();
    server.add('opaque-bound', { cnf: { jkt: key.jkt }, token_type: 'DPoP' });
    const result = await verifier.verify('opaque-bound');
    assert.ok(result.ok);
    assert.deepEqual(result.token.claims['cnf'], { jkt: key.jkt });
    const rs = createResourceServer({ resource: RESOURCE, authorizationServers: [ISSUER], verifier });
    const request = async (headers: Record<string, string>) => rs.authenticate(new Request(RESOURCE, { method: 'POST', headers }));
    const principal = await request(dpopAuth('opaque-bound', await craftProof(key, { htu: RESOURCE, accessToken: 'opaque-bound' })));
    assert.ok(!(principal instanceof Response), 'bound token with its proof');
    assert.equal(principal.dpopJkt, key.jkt);
    await assertDpopChallenge((await request({ Authorization: 'Bearer opaque-bound' })) as Response, 'invalid_token');
  });

  it('refuses to be built without credentials or an endpoint', () => {
    assert.throws(() => createIntrospectionVerifier({ clientId: 'a', clientSecret: '', endpoint: `${ISSUER}/i` }), TypeError);
    assert.throws(() => createIntrospectionVerifier({ clientId: 'a', clientSecret: 'b' }), TypeError);
  });

  it('works against the introspection endpoint of a Portcullis authorization server', async () => {
    const t = await createTestApp();
    await t.ctx.storage.clients.create(
      clientRecord({
        clientId: 'cli_confidential',
        secretHash: hashSecret('the-secret'),
        clientName: 'Resource server',
        redirectUris: ['https://rs.example/cb'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        applicationType: 'web',
        createdAt: t.clock.now(),
      }),
    );
    const who = await signIn(t, { clientId: 'cli_confidential' });
    const verifier = createIntrospectionVerifier({
      issuer: t.ctx.config.issuer,
      clientId: 'cli_confidential',
      clientSecret: 'the-secret',
      audience: t.ctx.config.resource,
      fetch: inProcessFetch(t.app) as typeof fetch,
      clock: t.clock,
    });
    const result = await verifier.verify(who.token);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.token.subject, who.user.id);
    await t.ctx.grants.revoke(who.grantId, t.clock.now());
    t.clock.advance(30_000);
    assert.equal(reason(await verifier.verify(who.token)), 'inactive', 'revocation shows once the cached answer is stale');
  });
});
