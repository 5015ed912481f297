import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registerPublicClient } from '../helpers/oauth-flow.ts';
import { location, openConsent, PASSWORD, pressAllow, setup, signIn, testBrowser, USERNAME, type Fixture } from './setup.ts';

/**
 * The authorization server must not be an open redirector (OAuth 2.1 §7.12, RFC 9700 §4.11.2):
 * its pages send the browser only to its own paths, or to a redirect URI registered by the client
 * of the request at hand; and an error goes to a redirect URI anyone could have registered (DCR,
 * client ID metadata documents) only after the user has signed in here.
 */

const ISSUER = 'http://localhost:3000';
const PHISHING = 'https://phishing.example/cb';
const EVIL = 'https://evil.example/landing';
/** Parameter names other servers use for "where to go next". */
const RETURN_PARAMS = ['return_to', 'returnTo', 'redirect', 'redirect_to', 'next', 'continue', 'url', 'target', 'goto'];

/** A Location must be on this server, or be the request's registered redirect URI. */
function assertNotOpen(response: Response, allowed: string[], what: string): void {
  const value = response.headers.get('Location');
  if (value === null) return;
  const to = new URL(value, ISSUER);
  const ok = to.origin === ISSUER || allowed.some((uri) => to.href === uri || to.href.startsWith(uri + '?') || to.href.startsWith(uri + '&'));
  assert.ok(ok, `${what}: redirected to ${to.href}`);
  assert.ok(!to.href.startsWith(EVIL), `${what}: followed an injected return URL`);
}

const withReturnParams = (url: URL | string): URL => {
  const out = new URL(url, ISSUER);
  for (const name of RETURN_PARAMS) out.searchParams.set(name, EVIL);
  return out;
};

async function phishingClient(f: Fixture, source: 'dcr' | 'cimd') {
  return registerPublicClient(f.app.storage, { redirectUris: [PHISHING], clientName: 'Totally Legit', source });
}

describe('SEC-08 the authorization server as open redirector (OAuth 2.1 §7.12.2, RFC 9700 §4.11.2)', () => {
  for (const source of ['dcr', 'cimd'] as const) {
    it(`SEC-08/AS-24 a phase-2 error for a ${source} client is not redirected before the user signs in: our error page, no Location`, async () => {
      const f = await setup();
      const client = await phishingClient(f, source);
      const response = await f.app.request(f.url({ client_id: client.clientId, redirect_uri: PHISHING, response_type: 'token' }).href);
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('Location'), null);
      assert.match(response.headers.get('Content-Type') ?? '', /^text\/html/);
      const html = await response.text();
      assert.match(html, /you were not sent back to the application/);
      assert.match(html, /unsupported_response_type/);
      assert.ok(!html.includes(PHISHING), 'the page does not link to the unverified redirect URI');
    });
  }

  it('SEC-08 being signed in here is not enough: a DCR client the user never approved gets no error redirect', async () => {
    const f = await setup();
    const client = await phishingClient(f, 'dcr');
    const browser = testBrowser(f);
    // Sign in through another (valid) request, which leaves a login session in the browser.
    assert.equal((await signIn(browser, f.url())).status, 303);
    const response = await browser.send(f.url({ client_id: client.clientId, redirect_uri: PHISHING, response_type: 'token' }));
    assert.equal(response.headers.get('Location'), null, 'not sent to the unapproved client');
    assert.ok(!(await response.text()).includes(PHISHING));
    const silent = await browser.send(f.url({ client_id: client.clientId, redirect_uri: PHISHING, prompt: 'none' }));
    assert.equal(silent.headers.get('Location'), null, 'prompt=none consent_required is not redirected to it either');
  });

  it('SEC-08/AS-26 once the signed-in user has approved a DCR client, its phase-2 errors are redirected with error, state and iss', async () => {
    const f = await setup();
    const client = await phishingClient(f, 'dcr');
    const browser = testBrowser(f);
    assert.equal((await signIn(browser, f.url())).status, 303);
    const user = await f.app.storage.users.byUsername(USERNAME);
    await f.app.storage.consents.remember(user!.id, client.clientId, ['tasks:read'], f.app.clock.now());
    const response = await browser.send(f.url({ client_id: client.clientId, redirect_uri: PHISHING, response_type: 'token' }));
    assert.equal(response.status, 303);
    const to = location(response);
    assert.equal(`${to.origin}${to.pathname}`, PHISHING);
    assert.equal(to.searchParams.get('error'), 'unsupported_response_type');
    assert.equal(to.searchParams.get('state'), 'xyz-state');
    assert.equal(to.searchParams.get('iss'), ISSUER);
    assert.equal(to.searchParams.get('code'), null);
  });

  it('SEC-08/AS-25 an operator-registered client (portcullis clients add) is trusted: its phase-2 errors are redirected at once', async () => {
    const f = await setup();
    const response = await f.app.request(f.url({ response_type: 'token' }).href);
    assert.equal(response.status, 303);
    assert.equal(location(response).searchParams.get('error'), 'unsupported_response_type');
  });

  it('SEC-08 errors about the client or redirect URI are never redirected, whoever registered the client (SEC-06)', async () => {
    const f = await setup();
    const client = await phishingClient(f, 'dcr');
    const browser = testBrowser(f);
    await signIn(browser, f.url());
    for (const redirect of [EVIL, PHISHING + '/other']) {
      const response = await browser.send(f.url({ client_id: client.clientId, redirect_uri: redirect }));
      assert.equal(response.status, 400, redirect);
      assert.equal(response.headers.get('Location'), null, redirect);
    }
  });
});

describe('SEC-07 no open redirector anywhere on the authorization server', () => {
  it('SEC-07 /authorize, /login, /consent and /logout ignore return-URL parameters, signed in or not', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    const allowed = [f.client.redirectUris[0]!];
    for (const path of ['/authorize', '/login', '/consent', '/logout', '/login?request=unknown', '/consent?request=unknown']) {
      assertNotOpen(await browser.send(withReturnParams(path)), allowed, `GET ${path} signed out`);
      assertNotOpen(await browser.post(withReturnParams(path), Object.fromEntries(RETURN_PARAMS.map((n) => [n, EVIL]))), allowed, `POST ${path} signed out`);
    }
    await signIn(browser, f.url());
    for (const path of ['/authorize', '/login', '/consent', '/logout']) {
      assertNotOpen(await browser.send(withReturnParams(path)), allowed, `GET ${path} signed in`);
    }
  });

  it('SEC-07 a login form with injected return fields continues the authorization request, and the code goes only to the registered redirect URI', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    const login = await browser.open(withReturnParams(f.url()));
    assert.ok(login.form, 'the login page');
    const fields = { username: USERNAME, password: PASSWORD, ...Object.fromEntries(RETURN_PARAMS.map((n) => [n, EVIL])) };
    const afterLogin = await browser.submit(login.form, fields);
    assert.equal(afterLogin.status, 303);
    assert.equal(location(afterLogin).origin, ISSUER, 'on to our consent page');
    const consent = await browser.open(location(afterLogin));
    const decided = await browser.submit(consent.form!, Object.fromEntries(RETURN_PARAMS.map((n) => [n, EVIL])), pressAllow);
    assert.equal(decided.status, 303);
    const to = location(decided);
    assert.equal(`${to.origin}${to.pathname}`, f.client.redirectUris[0]);
    assert.ok(to.searchParams.get('code'));
  });

  it('SEC-07 signing out sends the browser only to our own /logout page', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    await openConsent(browser, f.url());
    const page = await browser.open(withReturnParams('/logout'));
    assert.ok(page.form, 'the sign-out form');
    const response = await browser.submit(page.form, Object.fromEntries(RETURN_PARAMS.map((n) => [n, EVIL])));
    assert.equal(response.status, 303);
    assert.equal(location(response).href, `${ISSUER}/logout`);
  });
});
