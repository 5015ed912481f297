import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TEST_ORIGIN } from '../helpers/app.ts';
import { matchesRegisteredRedirect } from '../fixtures/stytch/oauth-login.ts';
import { callMcp, consentAndLeave, deliverCallback, fullLogin, MCP_REDIRECT, redeem, stytchSetup, tokenSubject } from './helpers.ts';

describe('identityProvider stytch: Stytch OAuth login (seed 2) against the documented API', () => {
  it('seed 2 a full flow: consent → Stytch OAuth start → provider → /callback?tx → oauth/authenticate → our code and token', async () => {
    const s = await stytchSetup();
    const back = await fullLogin(s, s.browser(), 'carol@example.com');
    assert.equal(back.origin + back.pathname, MCP_REDIRECT);
    assert.equal(back.searchParams.get('state'), 'client-state-1');
    const tokens = await redeem(s, back.searchParams.get('code')!);
    assert.equal(tokens.status, 200);
    assert.equal((await callMcp(s.app, String(tokens.body.access_token))).status, 200);
    const userId = tokenSubject(String(tokens.body.access_token));
    assert.equal((await s.app.storage.users.byId(userId))?.username, 'carol@example.com');
    const [link] = await s.app.storage.externalIdentities.listForUser(userId);
    assert.equal(link?.issuer, `stytch.com/${s.stytch.project.projectId}`);
    assert.equal(link?.subject, s.stytch.users.get('carol@example.com')?.userId, 'linked by the Stytch user_id, not the address');

    // A returning user comes back through the login redirect URL and is the same local user.
    const again = await fullLogin(s, s.browser(), 'carol@example.com');
    assert.equal(tokenSubject(String((await redeem(s, again.searchParams.get('code')!)).body.access_token)), userId);
  });

  it('seed 2 the start URL carries the public token, our callback with the transaction, and a PKCE challenge', async () => {
    const s = await stytchSetup();
    const { to } = await consentAndLeave(s, s.browser(), s.url());
    assert.equal(to.origin + to.pathname, 'https://test.stytch.com/v1/public/oauth/google/start');
    assert.equal(to.searchParams.get('public_token'), s.stytch.publicToken);
    const login = new URL(to.searchParams.get('login_redirect_url')!);
    assert.equal(login.origin + login.pathname, `${TEST_ORIGIN}/callback`);
    assert.match(login.searchParams.get('tx') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(to.searchParams.get('signup_redirect_url'), login.href);
    assert.ok(matchesRegisteredRedirect(`${TEST_ORIGIN}/callback?tx={}`, login.href), 'matches the documented registration');
    assert.match(to.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!to.href.includes(s.stytch.project.secret), 'the project secret never reaches the browser');
  });

  it('seed 2 §2.4 an authenticate failure reaches the client as access_denied, without Stytch’s text', async () => {
    const s = await stytchSetup();
    const browser = s.browser();
    const { to } = await consentAndLeave(s, browser, s.url());
    const callback = await s.loginUpstream(browser, to, 'dave@example.com');
    callback.searchParams.set('token', 'not-a-token-stytch-ever-issued-0000000000000');
    const answer = await deliverCallback(browser, callback);
    assert.equal(answer.status, 303);
    const denied = new URL(answer.headers.get('Location')!);
    assert.equal(denied.origin + denied.pathname, MCP_REDIRECT);
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('error_description'), 'Signing in with Google did not complete.');
    for (const stytchText of ['oauth_token_not_found', 'could not be found']) assert.ok(!denied.href.includes(stytchText) && !decodeURIComponent(denied.href).includes(stytchText));
    const failure = s.app.logger.records().find((r) => r.msg === 'login.failed');
    assert.match(String(failure?.detail), /404 error_type=oauth_token_not_found/, 'the reason is in our log');
  });

  it('seed 2 §2.7(9) a Stytch token is single use: the same callback twice yields one code', async () => {
    const s = await stytchSetup();
    const browser = s.browser();
    const { to } = await consentAndLeave(s, browser, s.url());
    const callback = await s.loginUpstream(browser, to, 'erin@example.com');
    assert.equal((await deliverCallback(browser, callback)).status, 303);
    const replay = await deliverCallback(browser, callback);
    assert.equal(replay.status, 400);
    assert.equal(replay.headers.get('Location'), null);
  });

  it('RFC 7636 a Stytch token issued for one login transaction cannot complete another (PKCE)', async () => {
    const s = await stytchSetup();
    const browser = s.browser();
    const first = await consentAndLeave(s, browser, s.url());
    const second = await consentAndLeave(s, browser, s.url({ state: 'second' }));
    const firstBack = await s.loginUpstream(browser, first.to, 'frank@example.com');
    // The first login's one-time token, presented under the second login's transaction.
    const crossed = new URL(firstBack);
    crossed.searchParams.set('tx', new URL(second.to.searchParams.get('login_redirect_url')!).searchParams.get('tx')!);
    const answer = await deliverCallback(browser, crossed);
    const denied = new URL(answer.headers.get('Location')!);
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('state'), 'second');
    assert.match(String(s.app.logger.records().find((r) => r.msg === 'login.failed')?.detail), /pkce_mismatch/);
  });

  it('seed 2 STYTCH_API_URL: a test project uses test.stytch.com, a live project api.stytch.com, or the URL configured', async () => {
    for (const [options, origin] of [
      [{ env: 'test' as const }, 'https://test.stytch.com'],
      [{ env: 'live' as const }, 'https://api.stytch.com'],
      [{ env: 'test' as const, stytch: { apiUrl: 'https://stytch.internal.example/v1' } }, 'https://stytch.internal.example'],
    ] as const) {
      const s = await stytchSetup(options);
      await fullLogin(s, s.browser(), 'grace@example.com');
      const calls = s.stytch.requests.filter((r) => r.includes('/v1/'));
      assert.deepEqual(calls, [`GET ${origin}/v1/public/oauth/google/start`, `POST ${origin}/v1/oauth/authenticate`], JSON.stringify(options));
    }
  });

  it('Stytch redirect URLs: the fixture refuses an unregistered one, and `{}` matches any value of that parameter only', async () => {
    const s = await stytchSetup();
    const start = (login: string) =>
      s.stytch.fetch(`https://test.stytch.com/v1/public/oauth/google/start?${new URLSearchParams({ public_token: s.stytch.publicToken, login_redirect_url: login, signup_redirect_url: login })}`);
    assert.equal((await start(`${TEST_ORIGIN}/callback?tx=abc`)).status, 302);
    for (const bad of [`${TEST_ORIGIN}/callback`, `${TEST_ORIGIN}/callback?tx=abc&next=https://evil.example`, `${TEST_ORIGIN}/other?tx=abc`, 'https://evil.example/callback?tx=abc']) {
      const refused = await start(bad);
      assert.equal(refused.status, 400, bad);
      assert.equal(((await refused.json()) as { error_type: string }).error_type, 'invalid_login_redirect_url');
    }
  });

  it('seed 2 STYTCH_OAUTH_URL names the start URL (and with it the OAuth provider)', async () => {
    const s = await stytchSetup({ stytch: { oauthStartUrl: 'https://test.stytch.com/v1/public/oauth/github/start' } });
    const { consentHtml, to } = await consentAndLeave(s, s.browser(), s.url());
    assert.equal(to.pathname, '/v1/public/oauth/github/start');
    assert.match(consentHtml, /you will sign in with <strong>GitHub<\/strong> next/);
  });
});
