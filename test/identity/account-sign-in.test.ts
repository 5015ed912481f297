/**
 * The account page with an upstream identity provider (oidc-provider as a real OpenID Connect
 * provider): a signed-out browser signs in there and comes back to /account, with no application
 * involved and nothing issued.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_ORIGIN } from '../helpers/app.ts';
import { formData, parseForms } from '../helpers/oauth-flow.ts';
import { deliverCallback, oidcSetup, openOnServer, type OidcSetup } from './helpers.ts';

describe('issue 12 /account with an upstream identity provider', () => {
  let s: OidcSetup;
  before(async () => {
    s = await oidcSetup();
  });
  after(() => s.close());

  /** Opens /account signed out and presses "Continue with …" on the login page; returns our answer. */
  async function startSignIn(browser: ReturnType<OidcSetup['browser']>, tamper?: (body: URLSearchParams) => void) {
    const page = await openOnServer(browser, s.app, new URL('/account', TEST_ORIGIN));
    assert.equal(page.url.pathname, '/login');
    assert.match(page.html, /Continue with Example SSO/);
    assert.doesNotMatch(page.html, /type="password"/, 'no password is asked for here');
    const form = parseForms(page.html, page.url)[0]!;
    const body = formData(form, {});
    tamper?.(body);
    return browser.send(form.action, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: body.toString() });
  }

  it('UP-03 a signed-out browser signs in at the provider and comes back to its account page, with nothing issued', async () => {
    const browser = s.browser();
    const started = await startSignIn(browser);
    assert.equal(started.status, 303);
    const upstream = new URL(started.headers.get('Location')!);
    assert.equal(upstream.origin, s.idp.issuer);
    const back = await s.loginUpstream(browser, upstream, 'alice-0001');
    const answer = await deliverCallback(browser, back);
    assert.equal(answer.status, 303);
    assert.equal(answer.headers.get('Location'), `${s.app.ctx.config.issuer}/account`);
    const account = await browser.send(new URL('/account', TEST_ORIGIN));
    assert.equal(account.status, 200);
    const html = await account.text();
    assert.match(html, /Signed in as <strong>alice@example.com<\/strong>/);
    assert.doesNotMatch(html, /Change password/, 'an upstream account has no password here');
    const user = await s.app.storage.users.byUsername('alice@example.com');
    assert.deepEqual(await s.app.storage.grants.listForUser(user!.id), [], 'no grant came of it');
    // The callback is single use, as for an authorization.
    assert.equal((await deliverCallback(browser, back)).status, 400);
  });

  it('BP-03 the sign-in form without its CSRF token sends nobody upstream and stores nothing', async () => {
    const response = await startSignIn(s.browser(), (body) => body.set('csrf_token', 'forged'));
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('Location'), null);
    assert.equal(response.headers.getSetCookie().some((c) => /portcullis_upstream=/.test(c)), false);
  });
});
