import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashSecret } from '../../src/util/crypto.ts';
import { authorizeWithForms } from '../helpers/oauth-flow.ts';
import { location, PASSWORD, REDIRECT, setup, USERNAME, type Fixture } from './setup.ts';

const ISSUER = 'http://localhost:3000';

/** Phase-1 failures: an HTML error page, status 400, and no Location anywhere near the client. */
async function assertErrorPage(response: Response, mentions?: RegExp): Promise<string> {
  assert.equal(response.status, 400);
  assert.equal(response.headers.get('Location'), null, 'never redirected');
  assert.match(response.headers.get('Content-Type') ?? '', /^text\/html/);
  assert.match(response.headers.get('Content-Security-Policy') ?? '', /frame-ancestors 'none'/);
  const html = await response.text();
  assert.match(html, /This sign-in link is not valid/);
  if (mentions) assert.match(html, mentions);
  return html;
}

/** Phase-2 failures: a redirect to the client with error, state and iss. */
function assertErrorRedirect(response: Response, error: string, options: { redirectUri?: string; state?: string | null } = {}): URL {
  assert.equal(response.status, 303);
  const to = location(response);
  assert.ok(to.href.startsWith((options.redirectUri ?? REDIRECT) + '?'), to.href);
  assert.equal(to.searchParams.get('error'), error);
  assert.ok(to.searchParams.get('error_description'), 'has a description');
  assert.equal(to.searchParams.get('iss'), ISSUER, 'AS-26 iss on errors too');
  assert.equal(to.searchParams.get('state'), options.state === undefined ? 'xyz-state' : options.state);
  assert.equal(to.searchParams.get('code'), null);
  return to;
}

/** A request that passed validation is sent to the login page. */
function assertAccepted(response: Response): void {
  assert.equal(response.status, 303, `expected the login redirect, got ${response.status}`);
  assert.match(location(response).pathname, /^\/login$/);
}

/** Runs the whole flow and returns the stored code record (read without using it). */
async function codeRecordFor(f: Fixture, url: URL) {
  const back = await authorizeWithForms({ fetch: f.fetch, authorizationUrl: url, username: USERNAME, password: PASSWORD });
  const code = back.searchParams.get('code');
  assert.ok(code, `no code in ${back.href}`);
  const found = await f.app.storage.authorizationCodes.peek(hashSecret(code), f.app.clock.now());
  assert.ok(found && !found.consumed, 'a fresh, unused code is stored under its hash');
  return { back, record: found.code };
}

describe('/authorize phase 1: client and redirect URI, never redirected', () => {
  it('SEC-06 an unknown client_id is shown an error page, never redirected (AS-24)', async () => {
    const f = await setup();
    await assertErrorPage(await f.app.request(f.url({ client_id: 'nobody' }).href), /not registered/);
  });

  it('SEC-06 a missing client_id is shown an error page', async () => {
    const f = await setup();
    await assertErrorPage(await f.app.request(f.url({ client_id: undefined }).href), /client_id is missing/);
  });

  it('AS-23 an unregistered redirect_uri is shown an error page, never redirected (AS-24)', async () => {
    const f = await setup();
    await assertErrorPage(await f.app.request(f.url({ redirect_uri: 'https://evil.example/cb' }).href), /not one this application registered/);
  });

  it('AS-23 redirect_uri matching is exact: a trailing slash, extra query or other case is refused (BP-05)', async () => {
    const f = await setup({ client: { redirectUris: ['https://app.example.com/cb'] } });
    for (const uri of ['https://app.example.com/cb/', 'https://app.example.com/cb?x=1', 'https://APP.example.com/cb', 'https://app.example.com/CB', 'https://app.example.com:8443/cb']) {
      await assertErrorPage(await f.app.request(f.url({ redirect_uri: uri }).href));
    }
    assertAccepted(await f.app.request(f.url({ redirect_uri: 'https://app.example.com/cb' }).href));
  });

  it('RFC 8252 §7.3 a loopback redirect_uri matches on any port (SEC-02)', async () => {
    const f = await setup();
    assertAccepted(await f.app.request(f.url({ redirect_uri: 'http://127.0.0.1:50123/callback' }).href));
  });

  it('RFC 8252 §7.3 the port relaxation does not turn 127.0.0.1 into localhost, nor change the path', async () => {
    const f = await setup();
    await assertErrorPage(await f.app.request(f.url({ redirect_uri: 'http://localhost:8765/callback' }).href));
    await assertErrorPage(await f.app.request(f.url({ redirect_uri: 'http://[::1]:8765/callback' }).href));
    await assertErrorPage(await f.app.request(f.url({ redirect_uri: 'http://127.0.0.1:8765/other' }).href));
  });

  it('RFC 8252 §7.3 the code goes to the port the client asked for', async () => {
    const f = await setup();
    const { back } = await codeRecordFor(f, f.url({ redirect_uri: 'http://127.0.0.1:50123/callback' }));
    assert.equal(back.origin + back.pathname, 'http://127.0.0.1:50123/callback');
  });

  it('SEC-05 with several registered redirect URIs, redirect_uri is required', async () => {
    const f = await setup({ client: { redirectUris: [REDIRECT, 'https://app.example.com/cb'] } });
    await assertErrorPage(await f.app.request(f.url({ redirect_uri: undefined }).href), /must name one/);
  });

  it('OAuth 2.1 §2.3.2 with exactly one registered redirect URI, redirect_uri may be omitted', async () => {
    const f = await setup();
    const { back, record } = await codeRecordFor(f, f.url({ redirect_uri: undefined }));
    assert.ok(back.href.startsWith(REDIRECT + '?'));
    assert.equal(record.redirectUri, REDIRECT);
  });

  it('SEC-27 a repeated client_id or redirect_uri is shown an error page', async () => {
    const f = await setup();
    const url = f.url();
    url.searchParams.append('redirect_uri', 'https://evil.example/cb');
    await assertErrorPage(await f.app.request(url.href), /must not be repeated/);
    const url2 = f.url();
    url2.searchParams.append('client_id', 'other');
    await assertErrorPage(await f.app.request(url2.href));
  });

  it('AS-22 a registered redirect URI that is not acceptable is refused at authorization time too', async () => {
    const f = await setup({ client: { redirectUris: ['http://app.example.com/cb'] } });
    await assertErrorPage(await f.app.request(f.url({ redirect_uri: 'http://app.example.com/cb' }).href));
  });

  it('SEC-22 the error page carries the page security headers and no CORS', async () => {
    const f = await setup();
    const response = await f.app.request(f.url({ client_id: 'nobody' }).href, { headers: { Origin: 'https://evil.example' } });
    assert.equal(response.headers.get('X-Frame-Options'), 'DENY');
    assert.equal(response.headers.get('Referrer-Policy'), 'no-referrer');
    assert.equal(response.headers.get('Cache-Control'), 'no-store');
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), null);
  });
});

describe('/authorize phase 2: errors redirected with state and iss (AS-26), for an operator-registered client', () => {
  it('OAuth 2.1 §4.1.1 response_type other than code is unsupported_response_type (SEC-19)', async () => {
    const f = await setup();
    assertErrorRedirect(await f.app.request(f.url({ response_type: 'token' }).href), 'unsupported_response_type');
  });

  it('OAuth 2.1 §4.1.1 a missing response_type is invalid_request', async () => {
    const f = await setup();
    assertErrorRedirect(await f.app.request(f.url({ response_type: undefined }).href), 'invalid_request');
  });

  it('SEC-11 a request without code_challenge is invalid_request', async () => {
    const f = await setup();
    assertErrorRedirect(await f.app.request(f.url({ code_challenge: undefined }).href), 'invalid_request');
  });

  it('SEC-11 code_challenge_method plain is invalid_request', async () => {
    const f = await setup();
    const to = assertErrorRedirect(await f.app.request(f.url({ code_challenge_method: 'plain' }).href), 'invalid_request');
    assert.match(to.searchParams.get('error_description') ?? '', /S256/);
  });

  it('SEC-11 a missing code_challenge_method (which means plain) is invalid_request', async () => {
    const f = await setup();
    assertErrorRedirect(await f.app.request(f.url({ code_challenge_method: undefined }).href), 'invalid_request');
  });

  it('RFC 7636 §4.2 a code_challenge that is not a base64url SHA-256 is invalid_request', async () => {
    const f = await setup();
    for (const challenge of ['short', 'a'.repeat(44), 'a'.repeat(42) + '+']) {
      assertErrorRedirect(await f.app.request(f.url({ code_challenge: challenge }).href), 'invalid_request');
    }
  });

  it('RFC 6749 §3.3 a scope this server does not offer is left out of the grant, not an error', async () => {
    const f = await setup();
    const { record } = await codeRecordFor(f, f.url({ scope: 'tasks:read admin' }));
    assert.deepEqual(record.scopes, ['tasks:read']);
  });

  it('RFC 6749 §3.3 a Codex-like request for openid profile email tasks:read completes with what is offered', async () => {
    const f = await setup();
    const { record } = await codeRecordFor(f, f.url({ scope: 'openid profile email tasks:read' }));
    assert.deepEqual(record.scopes, ['openid', 'profile', 'email', 'tasks:read']);
  });

  it('RFC 6749 §3.3 a request naming only scopes not offered gets the default scopes', async () => {
    const f = await setup({ config: { defaultScopes: ['tasks:read'] } });
    const { record } = await codeRecordFor(f, f.url({ scope: 'calendar admin' }));
    assert.deepEqual(record.scopes, ['tasks:read']);
  });

  it('OIDC Core §5.4 a request naming identity scopes only gets them and the default resource scopes', async () => {
    const f = await setup({ config: { defaultScopes: ['tasks:read'] } });
    const { record } = await codeRecordFor(f, f.url({ scope: 'openid profile email' }));
    assert.deepEqual(record.scopes, ['openid', 'profile', 'email', 'tasks:read']);
  });

  it('OIDC Core §5.4 a server that declares its own email scope keeps it as a resource scope', async () => {
    const f = await setup({ config: { scopes: [{ name: 'tasks:read', description: 'Read' }, { name: 'email', description: 'Send e-mail' }], defaultScopes: ['tasks:read'] } });
    const { record } = await codeRecordFor(f, f.url({ scope: 'email' }));
    assert.deepEqual(record.scopes, ['email']);
  });

  it('RFC 6749 §3.3 a request naming only openid/offline_access (Codex CLI\'s automatic flow) gets them plus the default scopes', async () => {
    const f = await setup();
    const { record } = await codeRecordFor(f, f.url({ scope: 'openid profile email offline_access' }));
    assert.deepEqual(record.scopes, ['openid', 'profile', 'email', 'offline_access', 'tasks:read', 'tasks:write']);
    const leastPrivilege = await setup({ config: { defaultScopes: ['tasks:read'] } });
    assert.deepEqual((await codeRecordFor(leastPrivilege, leastPrivilege.url({ scope: 'openid' }))).record.scopes, ['openid', 'tasks:read']);
  });

  it('RFC 6749 §3.3 the defaults added to openid are narrowed to what an administrator registered for the client', async () => {
    const f = await setup({ config: { defaultScopes: ['tasks:read', 'tasks:write'] }, client: { scope: 'openid tasks:write' } });
    assert.deepEqual((await codeRecordFor(f, f.url({ scope: 'openid' }))).record.scopes, ['openid', 'tasks:write']);
    const identityOnly = await setup({ client: { scope: 'openid' } });
    assert.deepEqual((await codeRecordFor(identityOnly, identityOnly.url({ scope: 'openid' }))).record.scopes, ['openid']);
  });

  it('RFC 6749 §3.3 a scope outside the client\'s registered scope is invalid_scope', async () => {
    const f = await setup({ client: { scope: 'tasks:read' } });
    assertErrorRedirect(await f.app.request(f.url({ scope: 'tasks:read tasks:write' }).href), 'invalid_scope');
    assertAccepted(await f.app.request(f.url({ scope: 'tasks:read' }).href));
  });

  it('RS-12 / CL-05 a dynamically registered scope is not a limit: the client can step up to more', async () => {
    const f = await setup({ client: { scope: 'tasks:read offline_access', source: 'dcr' } });
    assertAccepted(await f.app.request(f.url({ scope: 'tasks:read tasks:write offline_access' }).href));
    // A phase-2 error before sign-in is not redirected: a DCR client's redirect URI is not trusted yet (SEC-08).
    await assertErrorPage(await f.app.request(f.url({ response_type: 'token' }).href), /unsupported_response_type/);
  });

  it('RFC 8707 §2 a resource other than this MCP server, with a fragment, or not a URI is invalid_target (SEC-40)', async () => {
    const f = await setup();
    for (const resource of ['https://other.example/mcp', 'http://localhost:3000/other', 'http://localhost:3000/mcp#frag', 'not a uri']) {
      assertErrorRedirect(await f.app.request(f.url({ resource }).href), 'invalid_target');
    }
  });

  it('RFC 8707 §2 every repeated resource must name this server', async () => {
    const f = await setup();
    const url = f.url();
    url.searchParams.append('resource', 'https://other.example/mcp');
    assertErrorRedirect(await f.app.request(url.href), 'invalid_target');
  });

  it('SEC-27 a repeated parameter is invalid_request', async () => {
    const f = await setup();
    const url = f.url();
    url.searchParams.append('scope', 'tasks:write');
    assertErrorRedirect(await f.app.request(url.href), 'invalid_request');
  });

  it('SEC-27 a repeated state cannot be echoed exactly, so the error goes back without one', async () => {
    const f = await setup();
    const url = f.url();
    url.searchParams.append('state', 'second');
    assertErrorRedirect(await f.app.request(url.href), 'invalid_request', { state: null });
  });

  it('OIDC Core §3.1.2.1 an unknown prompt value, or none combined with another, is invalid_request', async () => {
    const f = await setup();
    assertErrorRedirect(await f.app.request(f.url({ prompt: 'whatever' }).href), 'invalid_request');
    assertErrorRedirect(await f.app.request(f.url({ prompt: 'none login' }).href), 'invalid_request');
  });

  it('only response_mode=query is supported', async () => {
    const f = await setup();
    assertErrorRedirect(await f.app.request(f.url({ response_mode: 'fragment' }).href), 'invalid_request');
  });

  it('RFC 7591 §2 a client that did not register the code flow is unauthorized_client', async () => {
    const f = await setup({ client: { grantTypes: ['client_credentials'] } });
    assertErrorRedirect(await f.app.request(f.url().href), 'unauthorized_client');
  });

  it('OAuth 2.1 §4.1.2.1 state is optional: an error without one carries none', async () => {
    const f = await setup();
    assertErrorRedirect(await f.app.request(f.url({ state: undefined, response_type: 'token' }).href), 'unsupported_response_type', { state: null });
  });

  it('phase-2 errors keep the registered query of the redirect URI (SEC-04)', async () => {
    const registered = 'https://app.example.com/cb?tenant=a%20b';
    const f = await setup({ client: { redirectUris: [registered] } });
    const response = await f.app.request(f.url({ response_type: 'token' }).href);
    assert.ok(location(response).href.startsWith(registered + '&error=unsupported_response_type'), location(response).href);
  });

  it('SEC-27 SHAPE-5 POST /authorize must be form-encoded; other bodies get a 400 error page, as at every form endpoint', async () => {
    const f = await setup();
    const response = await f.app.request('/authorize', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('Location'), null);
    assert.match(response.headers.get('Content-Type') ?? '', /^text\/html/);
  });
});

describe('/authorize acceptance', () => {
  it('OAuth 2.1 §4.1.1 a form-encoded POST to /authorize is accepted like a GET', async () => {
    const f = await setup();
    const response = await f.app.request('/authorize', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: f.url().searchParams.toString(),
    });
    assertAccepted(response);
  });

  it('AS-26 the success redirect carries code, the exact state and iss equal to the issuer (mix-up defence BP-10/SEC-46, state SEC-47)', async () => {
    const f = await setup();
    const state = 'a b&c=d/é?+%20"\'<>';
    const { back } = await codeRecordFor(f, f.url({ state }));
    assert.ok(back.searchParams.get('code')?.startsWith('pcc_'));
    assert.equal(back.searchParams.get('state'), state, 'state echoed exactly');
    assert.equal(back.searchParams.get('iss'), f.app.ctx.config.issuer);
  });

  it('OAuth 2.1 §4.1.1 state is optional: without it the response has none', async () => {
    const f = await setup();
    const { back } = await codeRecordFor(f, f.url({ state: undefined }));
    assert.equal(back.searchParams.has('state'), false);
    assert.ok(back.searchParams.get('code'));
  });

  it('RFC 6749 §3.3 scope is optional: the configured defaultScopes apply', async () => {
    const f = await setup({ config: { defaultScopes: ['tasks:read', 'tasks:write'] } });
    const { record } = await codeRecordFor(f, f.url({ scope: undefined }));
    assert.deepEqual(record.scopes, ['tasks:read', 'tasks:write']);
  });

  it('SEC-27 an empty parameter counts as absent (scope= gets the default)', async () => {
    const f = await setup();
    const { record } = await codeRecordFor(f, f.url({ scope: '' }));
    assert.deepEqual(record.scopes, ['tasks:read', 'tasks:write']);
  });

  it('RFC 6749 §3.3 with defaultScopes unset, the default grant is every declared scope, so a client that never steps up can use every tool', async () => {
    const f = await setup();
    const { record } = await codeRecordFor(f, f.url({ scope: undefined }));
    assert.deepEqual(record.scopes, ['tasks:read', 'tasks:write']);
  });

  it('SEC-41 least privilege: an explicit defaultScopes keeps the narrow default grant', async () => {
    const f = await setup({ config: { defaultScopes: ['tasks:read'] } });
    const { record } = await codeRecordFor(f, f.url({ scope: undefined }));
    assert.deepEqual(record.scopes, ['tasks:read']);
  });

  it('the default scopes are narrowed to what the client registered (down-scoping AS-34, least privilege SEC-41)', async () => {
    const f = await setup({ config: { defaultScopes: ['tasks:read', 'tasks:write'] }, client: { scope: 'tasks:write offline_access' } });
    const { record } = await codeRecordFor(f, f.url({ scope: undefined }));
    assert.deepEqual(record.scopes, ['tasks:write']);
  });

  it('RFC 8707 resource is optional: absent means this MCP server', async () => {
    const f = await setup();
    const { record } = await codeRecordFor(f, f.url({ resource: undefined }));
    assert.equal(record.resource, 'http://localhost:3000/mcp');
  });

  it('RS-20 resource is compared canonically: upper-case scheme and host, and a trailing slash, are accepted', async () => {
    const f = await setup();
    const { record } = await codeRecordFor(f, f.url({ resource: 'HTTP://LOCALHOST:3000/mcp/' }));
    assert.equal(record.resource, 'http://localhost:3000/mcp');
  });

  it('SEC-12 the code is bound to client, redirect URI, PKCE challenge, scopes, resource and nonce', async () => {
    const f = await setup();
    const { record } = await codeRecordFor(f, f.url({ scope: 'tasks:read tasks:write', nonce: 'n-0S6_WzA2Mj' }));
    assert.equal(record.clientId, f.client.clientId);
    assert.equal(record.redirectUri, REDIRECT);
    assert.equal(record.codeChallenge, f.pkce.challenge);
    assert.deepEqual(record.scopes, ['tasks:read', 'tasks:write']);
    assert.equal(record.resource, f.app.ctx.config.resource);
    assert.equal(record.nonce, 'n-0S6_WzA2Mj');
    assert.match(record.grantId, /^gnt_/);
    const user = await f.app.storage.users.byUsername(USERNAME);
    assert.equal(record.userId, user?.id);
  });

  it('OAuth 2.1 §4.1.2 the code lives authorizationCodeTtl seconds and is stored only as its hash', async () => {
    const f = await setup({ config: { authorizationCodeTtl: 45 } });
    const back = await authorizeWithForms({ fetch: f.fetch, authorizationUrl: f.url(), username: USERNAME, password: PASSWORD });
    const code = back.searchParams.get('code')!;
    assert.match(code, /^pcc_[A-Za-z0-9_-]{43}$/);
    assert.equal(await f.app.storage.authorizationCodes.peek(code, f.app.clock.now()), null, 'the raw code is not a key');
    f.app.clock.advance(44_000);
    assert.ok(await f.app.storage.authorizationCodes.peek(hashSecret(code), f.app.clock.now()), 'still usable just before the TTL');
    f.app.clock.advance(2_000);
    assert.equal(await f.app.storage.authorizationCodes.peek(hashSecret(code), f.app.clock.now()), null, 'expired after the TTL');
  });

  it('a refresh token is promised to clients that registered refresh_token or asked for offline_access', async () => {
    const withGrant = await setup();
    assert.equal((await codeRecordFor(withGrant, withGrant.url())).record.issueRefreshToken, true);
    const codeOnly = await setup({ client: { grantTypes: ['authorization_code'] } });
    assert.equal((await codeRecordFor(codeOnly, codeOnly.url())).record.issueRefreshToken, false);
    const offline = await setup({ client: { grantTypes: ['authorization_code'] } });
    assert.equal((await codeRecordFor(offline, offline.url({ scope: 'tasks:read offline_access' }))).record.issueRefreshToken, true);
  });

  it('the code redirect keeps the registered query of the redirect URI, byte for byte (SEC-04)', async () => {
    const registered = 'https://app.example.com/cb?tenant=a%20b';
    const f = await setup({ client: { redirectUris: [registered] } });
    const { back } = await codeRecordFor(f, f.url());
    assert.ok(back.href.startsWith(registered + '&code=pcc_'), back.href);
  });

  it('a pending authorization request expires after 10 minutes', async () => {
    const f = await setup();
    const first = await f.app.request(f.url().href);
    const loginUrl = location(first);
    f.app.clock.advance(10 * 60_000 + 1);
    const page = await f.app.request(loginUrl.pathname + loginUrl.search);
    assert.equal(page.status, 400);
    assert.match(await page.text(), /expired/);
  });
});
