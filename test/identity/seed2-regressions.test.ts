/**
 * One regression test per defect of seed 2's gateway (BioMCP's Stytch OAuth worker) that concerns
 * the login side, numbered as in ../shared/reference/seed-systems.md §2.7. Each runs against the
 * real flow: Portcullis with a real OpenID Connect provider (or the Stytch fixture) signing users in.
 * Defects 8, 13 and 15 (the unauthenticated /messages proxy, proxy semantics, /status and /debug
 * disclosure) belong to the gateway's proxy and are tested with it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { CALLBACK_PER_MINUTE } from '../../src/authorization/endpoints/callback.ts';
import { createTestApp, TEST_ORIGIN } from '../helpers/app.ts';
import { createPkcePair, parseForms, registerPublicClient } from '../helpers/oauth-flow.ts';
import { loginDirectly } from '../fixtures/oidc-provider.ts';
import { hs256Jwt } from '../fixtures/stytch/keys.ts';
import {
  callMcp,
  consentAndLeave,
  deliverCallback,
  fullLogin,
  MCP_REDIRECT,
  oidcSetup,
  openOnServer,
  redeem,
  RP_CLIENT_ID,
  RP_CLIENT_SECRET,
  stytchSetup,
  tokenSubject,
  type OidcSetup,
} from './helpers.ts';

const claimsOf = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
const usernameOf = async (s: OidcSetup, accessToken: string) => (await s.app.storage.users.byId(tokenSubject(accessToken)))?.username;

async function refusedWithoutCode(response: Response): Promise<void> {
  assert.equal(response.status, 400);
  assert.equal(response.headers.get('Location'), null, 'no redirect, so no code for anyone');
  await response.body?.cancel();
}

describe('seed 2 §2.7 defects on the login side: regression tests', () => {
  let s: OidcSetup;
  before(async () => {
    s = await oidcSetup();
  });
  after(() => s.close());

  it('seed 2 §2.7(1) two users’ interleaved logins never swap identities', async () => {
    for (const order of ['first-started first', 'last-started first'] as const) {
      const a = s.browser();
      const b = s.browser();
      const toA = (await consentAndLeave(s, a, s.url({ state: 'browser-a' }))).to;
      const toB = (await consentAndLeave(s, b, s.url({ state: 'browser-b' }))).to; // the newest /authorize, which seed 2 gave every callback to
      const backB = await s.loginUpstream(b, toB, 'bob-0002');
      const backA = await s.loginUpstream(a, toA, 'alice-0001');
      const [first, second] = order === 'first-started first' ? [[a, backA], [b, backB]] as const : [[b, backB], [a, backA]] as const;
      const answers = new Map([[first[0], await deliverCallback(first[0], first[1])], [second[0], await deliverCallback(second[0], second[1])]]);
      const codeA = new URL(answers.get(a)!.headers.get('Location')!);
      const codeB = new URL(answers.get(b)!.headers.get('Location')!);
      assert.equal(codeA.searchParams.get('state'), 'browser-a', order);
      assert.equal(codeB.searchParams.get('state'), 'browser-b', order);
      assert.equal(await usernameOf(s, String((await redeem(s, codeA.searchParams.get('code')!)).body.access_token)), 'alice@example.com', order);
      assert.equal(await usernameOf(s, String((await redeem(s, codeB.searchParams.get('code')!)).body.access_token)), 'bob@example.com', order);
    }
  });

  it('seed 2 §2.7(1) a login started in one browser cannot be completed in another: an attacker’s /authorize cannot capture a victim’s login', async () => {
    const attackerClient = await registerPublicClient(s.app.storage, { redirectUris: ['https://attacker.example/cb'], clientName: 'Totally Legit', source: 'dcr' });
    const attackerPkce = createPkcePair();
    const attacker = s.browser();
    const victim = s.browser();
    // The attacker starts an authorization for their own client and PKCE, consents, and lures the victim to the provider.
    const { to } = await consentAndLeave(s, attacker, s.url({ client_id: attackerClient.clientId, redirect_uri: 'https://attacker.example/cb', code_challenge: attackerPkce.challenge, state: 'attacker' }));
    const callback = await s.loginUpstream(victim, to, 'victim-0004');
    await refusedWithoutCode(await deliverCallback(victim, callback));
    // Nor can the attacker complete it afterwards with the stolen callback URL: the transaction is spent.
    await refusedWithoutCode(await deliverCallback(attacker, callback));
    assert.equal(await s.app.storage.users.byUsername('victim@example.com'), null, 'the victim’s identity was never used');
    const failures = s.app.logger.records().filter((r) => r.msg === 'login.failed').map((r) => r.reason);
    assert.ok(failures.includes('other_browser') && failures.includes('unknown_transaction'));
  });

  it('seed 2 §2.7(2) an unregistered redirect URI or an unknown client is refused on our page, before anything goes upstream', async () => {
    for (const overrides of [{ redirect_uri: 'https://attacker.example/steal' }, { redirect_uri: `${MCP_REDIRECT}/../x` }, { client_id: 'unknown_client' }]) {
      const page = await openOnServer(s.browser(), s.app, s.url(overrides));
      assert.equal(page.leftTo, null, `${JSON.stringify(overrides)}: no redirect anywhere`);
      assert.equal(page.response.status, 400);
      assert.match(page.html, /This sign-in link is not valid/);
    }
  });

  it('seed 2 §2.7(2) UP-07 the callback redirects only to the redirect URI of the pending request', async () => {
    const browser = s.browser();
    const { to } = await consentAndLeave(s, browser, s.url());
    const callback = await s.loginUpstream(browser, to, 'alice-0001');
    callback.searchParams.set('redirect_uri', 'https://attacker.example/cb');
    const answer = await deliverCallback(browser, callback);
    assert.equal(new URL(answer.headers.get('Location')!).origin + new URL(answer.headers.get('Location')!).pathname, MCP_REDIRECT);
  });

  it('seed 2 §2.7(3) a missing or plain PKCE challenge is refused, and nobody is sent upstream', async () => {
    for (const overrides of [{ code_challenge: undefined, code_challenge_method: undefined }, { code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) }, { code_challenge_method: undefined }]) {
      const page = await openOnServer(s.browser(), s.app, s.url(overrides));
      assert.ok(page.leftTo, JSON.stringify(overrides));
      assert.equal(page.leftTo.origin + page.leftTo.pathname, MCP_REDIRECT, 'an error to the client, not a trip upstream');
      assert.equal(page.leftTo.searchParams.get('error'), 'invalid_request', JSON.stringify(overrides));
      assert.equal(page.leftTo.searchParams.get('code'), null);
    }
  });

  it('seed 2 §2.7(4) the code is bound to its client and redirect URI (and a wrong attempt does not spend it)', async () => {
    const other = await registerPublicClient(s.app.storage, { redirectUris: ['http://127.0.0.1:7000/cb'] });
    const code = (await fullLogin(s, s.browser(), 'alice-0001')).searchParams.get('code')!;
    const wrongClient = await redeem(s, code, { client_id: other.clientId, redirect_uri: 'http://127.0.0.1:7000/cb' });
    assert.equal(wrongClient.status, 400);
    assert.equal(wrongClient.body.error, 'invalid_grant');
    const wrongRedirect = await redeem(s, code, { redirect_uri: 'http://127.0.0.1:8765/elsewhere' });
    assert.equal(wrongRedirect.body.error, 'invalid_grant');
    const wrongVerifier = await redeem(s, code, { code_verifier: createPkcePair().verifier });
    assert.equal(wrongVerifier.body.error, 'invalid_grant');
    assert.equal((await redeem(s, code)).status, 200, 'its own client still redeems it');
  });

  it('seed 2 §2.7(5) a token signed with a guessable secret (HS256 "default-jwt-secret-key") is refused', async () => {
    const real = String((await redeem(s, (await fullLogin(s, s.browser(), 'alice-0001')).searchParams.get('code')!)).body.access_token);
    const claims = claimsOf(real);
    for (const secret of ['default-jwt-secret-key', 'replace-with-a-strong-secret-key', 'your-secure-jwt-secret']) {
      const forged = hs256Jwt({ typ: 'at+jwt', kid: String(JSON.parse(Buffer.from(real.split('.')[0]!, 'base64url').toString()).kid) }, claims, secret);
      const answer = await callMcp(s.app, forged);
      assert.equal(answer.status, 401, secret);
      assert.match(answer.headers.get('WWW-Authenticate') ?? '', /error="invalid_token"/);
    }
    assert.equal((await callMcp(s.app, real)).status, 200, 'the genuine token with the same claims works');
  });

  it('seed 2 §2.7(6) tokens we issue are audience-checked: signed by our own key but for another audience, refused', async () => {
    const real = String((await redeem(s, (await fullLogin(s, s.browser(), 'alice-0001')).searchParams.get('code')!)).body.access_token);
    const claims = claimsOf(real);
    for (const aud of [s.client.clientId, s.app.ctx.config.issuer, `${s.app.ctx.config.resource}/other`]) {
      const token = await s.app.ctx.keys.sign({ ...claims, aud }, 'at+jwt');
      assert.equal((await callMcp(s.app, token)).status, 401, `aud ${aud}`);
    }
    const control = await s.app.ctx.keys.sign({ ...claims, jti: 'control' }, 'at+jwt');
    assert.equal((await callMcp(s.app, control)).status, 200, 'the same claims with our resource as audience work');
  });

  it('seed 2 §2.7(7) UP-04 the identity provider’s own tokens (ID token, access token) are refused at the MCP endpoint', async () => {
    const upstream = await loginDirectly(s.idp, { clientId: RP_CLIENT_ID, clientSecret: RP_CLIENT_SECRET, redirectUri: `${TEST_ORIGIN}/callback`, login: 'alice-0001' });
    for (const name of ['id_token', 'access_token']) {
      const answer = await callMcp(s.app, String(upstream[name]));
      assert.equal(answer.status, 401, name);
    }
  });

  it('seed 2 §2.7(7) a Stytch session JWT of the project is refused at the MCP endpoint', async () => {
    const st = await stytchSetup();
    await fullLogin(st, st.browser(), 'judy@example.com');
    const session = await stytchSessionJwt(st);
    assert.equal(claimsOf(session).sub, st.stytch.users.get('judy@example.com')?.userId, 'a session of a user Portcullis knows');
    assert.equal(claimsOf(session).iss, `stytch.com/${st.stytch.project.projectId}`);
    const answer = await callMcp(st.app, session);
    assert.equal(answer.status, 401);
  });

  it('seed 2 §2.7(9) the login transaction and the code are single use; a replayed code revokes what it gave', async () => {
    const browser = s.browser();
    const { to } = await consentAndLeave(s, browser, s.url());
    const callback = await s.loginUpstream(browser, to, 'alice-0001');
    const first = await deliverCallback(browser, callback);
    assert.equal(first.status, 303);
    await refusedWithoutCode(await deliverCallback(browser, callback));
    const code = new URL(first.headers.get('Location')!).searchParams.get('code')!;
    const tokens = await redeem(s, code);
    assert.equal(tokens.status, 200);
    const replay = await redeem(s, code);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.equal((await callMcp(s.app, String(tokens.body.access_token))).status, 401, 'the replay revoked the grant (OAuth 2.1 §4.1.3)');
  });

  it('seed 2 §2.7(10) a callback is matched only by its own transaction, never by recency or a listing', async () => {
    const browser = s.browser();
    const { to } = await consentAndLeave(s, browser, s.url({ state: 'pending-one' }));
    for (const state of [null, 'A'.repeat(43), 'not-a-handle']) {
      const stray = new URL('/callback', TEST_ORIGIN);
      if (state !== null) stray.searchParams.set('state', state);
      stray.searchParams.set('code', 'whatever');
      await refusedWithoutCode(await deliverCallback(browser, stray));
    }
    // The pending login is untouched by the strays and completes normally.
    const answer = await deliverCallback(browser, await s.loginUpstream(browser, to, 'alice-0001'));
    assert.equal(new URL(answer.headers.get('Location')!).searchParams.get('state'), 'pending-one');
  });

  it('seed 2 §2.7(11) nothing is advertised that is not implemented', async () => {
    const metadata = (await (await s.app.request('/.well-known/oauth-authorization-server')).json()) as Record<string, unknown>;
    const issuer = s.app.ctx.config.issuer;
    for (const [name, value] of Object.entries(metadata)) {
      if (name.endsWith('_endpoint') || name === 'jwks_uri') assert.ok(String(value).startsWith(`${issuer}/`), `${name} is ours, not the identity provider’s`);
    }
    assert.ok(!Object.values(metadata).includes(`${issuer}/callback`), 'the upstream callback is not an OAuth endpoint');
    const local = await createTestApp();
    assert.equal((await local.request('/callback?state=x')).status, 404, 'with local accounts there is no callback at all');
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);

    // openid: an ID token of our own, verifiable with our jwks_uri; refresh_token: the grant works.
    const back = await fullLogin(s, s.browser(), 'alice-0001', s.url({ scope: 'openid tasks:read', nonce: 'n-1' }));
    const tokens = await redeem(s, back.searchParams.get('code')!);
    const jwks = createLocalJWKSet((await (await s.app.request(new URL(String(metadata.jwks_uri)).pathname)).json()) as { keys: [] });
    const idToken = await jwtVerify(String(tokens.body.id_token), jwks, { issuer, audience: s.client.clientId });
    assert.equal(idToken.payload.nonce, 'n-1');
    await jwtVerify(String(tokens.body.access_token), jwks, { issuer, audience: s.app.ctx.config.resource, typ: 'at+jwt' });
    assert.ok((metadata.grant_types_supported as string[]).includes('refresh_token'));
    const refreshed = await s.app.request('/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: s.client.clientId }),
    });
    assert.equal(refreshed.status, 200);
    const revoked = await s.app.request(new URL(String(metadata.revocation_endpoint)).pathname, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: String(((await refreshed.json()) as { refresh_token: string }).refresh_token), client_id: s.client.clientId }),
    });
    assert.equal(revoked.status, 200);
    const registered = await s.app.request(new URL(String(metadata.registration_endpoint)).pathname, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'x', redirect_uris: ['http://127.0.0.1:5000/cb'], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(registered.status, 201);
  });

  it('seed 2 §2.7(12) token responses are no-store, the provider’s error text is never reflected, and callbacks are rate limited', async () => {
    const tokens = await redeem(s, (await fullLogin(s, s.browser(), 'alice-0001')).searchParams.get('code')!);
    assert.match(tokens.headers.get('Cache-Control') ?? '', /no-store/);

    const browser = s.browser();
    const { to } = await consentAndLeave(s, browser, s.url());
    const { signInAtProvider } = await import('../fixtures/oidc-provider.ts');
    const denied = new URL((await deliverCallback(browser, await signInAtProvider(browser.send, to, { login: 'alice-0001', decision: 'deny' }))).headers.get('Location')!);
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.ok(!decodeURIComponent(denied.search).includes('said no'), 'the provider’s error_description stays out');

    let limited: Response | undefined;
    for (let i = 0; i <= CALLBACK_PER_MINUTE && !limited; i++) {
      const response = await s.app.request(`/callback?state=${'B'.repeat(43)}`);
      if (response.status === 429) limited = response;
      else await response.body?.cancel();
    }
    assert.ok(limited, `the ${CALLBACK_PER_MINUTE + 1}th callback within a minute is refused`);
    assert.match(limited.headers.get('Retry-After') ?? '', /^\d+$/);
    s.app.clock.advance(60_000);
  });

  it('seed 2 §2.7(14) no tokens, codes, states or callback tokens reach the logs (OpenID Connect)', async () => {
    const seen: string[] = [];
    const logged = await oidcSetup({
      fetch: (real) => async (input, init) => {
        if (typeof init?.body === 'string' || init?.body instanceof URLSearchParams) {
          for (const [name, value] of new URLSearchParams(String(init.body))) if (['code', 'code_verifier', 'client_secret'].includes(name)) seen.push(value);
        }
        const response = await real(input, init);
        if (String(input).endsWith('/token')) {
          const body = (await response.clone().json()) as Record<string, unknown>;
          for (const name of ['access_token', 'id_token', 'refresh_token']) if (typeof body[name] === 'string') seen.push(String(body[name]));
        }
        return response;
      },
    });
    try {
      const browser = logged.browser();
      const { to, response } = await consentAndLeave(logged, browser, logged.url());
      seen.push(to.searchParams.get('state')!, to.searchParams.get('nonce')!, /portcullis_upstream=([^;]+)/.exec(response.headers.get('Set-Cookie') ?? '')![1]!);
      const callback = await logged.loginUpstream(browser, to, 'alice-0001');
      seen.push(callback.searchParams.get('code')!);
      const back = new URL((await deliverCallback(browser, callback)).headers.get('Location')!);
      const code = back.searchParams.get('code')!;
      const tokens = await redeem(logged, code);
      seen.push(code, logged.pkce.verifier, String(tokens.body.access_token), String(tokens.body.refresh_token), RP_CLIENT_SECRET);
      const log = logged.app.logger.lines.join('\n');
      assert.match(log, /login\.succeeded/, 'the login was audited');
      for (const secret of seen.filter((v) => v.length >= 16)) assert.ok(!log.includes(secret), `a secret reached the log: ${secret.slice(0, 12)}…`);
      assert.ok(seen.some((v) => v.split('.').length === 3), 'the provider’s JWTs were among the values checked');
    } finally {
      await logged.close();
    }
  });

  it('seed 2 §2.7(14) no Stytch token, project secret or PKCE verifier reaches the logs', async () => {
    const verifiers: string[] = [];
    const st = await stytchSetup({
      fetch: (fixture) => async (input, init) => {
        if (typeof init?.body === 'string') verifiers.push(String((JSON.parse(init.body) as { code_verifier?: string }).code_verifier));
        return fixture(input, init);
      },
    });
    const browser = st.browser();
    const { to } = await consentAndLeave(st, browser, st.url());
    const callback = await st.loginUpstream(browser, to, 'ivan@example.com');
    const back = new URL((await deliverCallback(browser, callback)).headers.get('Location')!);
    const log = st.app.logger.lines.join('\n');
    assert.match(log, /login\.succeeded/);
    assert.equal(verifiers.length, 1);
    for (const secret of [callback.searchParams.get('token')!, callback.searchParams.get('tx')!, st.stytch.project.secret, verifiers[0]!, back.searchParams.get('code')!]) {
      assert.ok(secret.length >= 16 && !log.includes(secret), `a secret reached the log: ${secret.slice(0, 12)}…`);
    }
  });

  it('seed 2 §2.7(16) the issuer is a URL, byte-identical in the metadata, the authorization response and our tokens', async () => {
    const issuer = s.app.ctx.config.issuer;
    const url = new URL(issuer);
    assert.ok(url.protocol === 'https:' || url.protocol === 'http:');
    assert.equal(url.origin, issuer, 'an origin, no path, no trailing slash');
    const metadata = (await (await s.app.request('/.well-known/oauth-authorization-server')).json()) as { issuer: string };
    assert.equal(metadata.issuer, issuer);
    const back = await fullLogin(s, s.browser(), 'alice-0001', s.url({ scope: 'openid tasks:read' }));
    assert.equal(back.searchParams.get('iss'), issuer, 'RFC 9207 iss in the authorization response');
    const tokens = await redeem(s, back.searchParams.get('code')!);
    assert.equal(claimsOf(String(tokens.body.access_token)).iss, issuer);
    assert.equal(claimsOf(String(tokens.body.id_token)).iss, issuer);
    assert.notEqual(issuer, s.idp.issuer, 'and it is ours, not the identity provider’s');
  });
});

/** A Stytch session JWT of the project, obtained the way a Stytch frontend would: its own OAuth login with a session. */
async function stytchSessionJwt(st: Awaited<ReturnType<typeof stytchSetup>>): Promise<string> {
  const pkce = createPkcePair();
  const start = new URL('https://test.stytch.com/v1/public/oauth/google/start');
  const redirect = `${TEST_ORIGIN}/callback?tx=frontend`;
  for (const [k, v] of Object.entries({ public_token: st.stytch.publicToken, login_redirect_url: redirect, signup_redirect_url: redirect, code_challenge: pkce.challenge })) start.searchParams.set(k, v);
  const providerPage = new URL((await st.stytch.fetch(start)).headers.get('Location')!);
  const form = parseForms(await (await st.stytch.fetch(providerPage)).text(), providerPage)[0]!;
  const back = new URL(
    (await st.stytch.fetch(form.action, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ email: 'judy@example.com' }).toString() })).headers.get('Location')!,
  );
  const response = await st.stytch.fetch('https://test.stytch.com/v1/oauth/authenticate', {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(`${st.stytch.project.projectId}:${st.stytch.project.secret}`).toString('base64')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: back.searchParams.get('token'), session_duration_minutes: 60, code_verifier: pkce.verifier }),
  });
  const body = (await response.json()) as { session_jwt: string };
  assert.ok(body.session_jwt, 'the fixture minted a session JWT');
  return body.session_jwt;
}
