import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createUser } from '../../src/identity/users.ts';
import { TEST_ORIGIN } from '../helpers/app.ts';
import { parseForms } from '../helpers/oauth-flow.ts';
import { loginDirectly, UPSTREAM_DENIAL_DESCRIPTION } from '../fixtures/oidc-provider.ts';
import {
  callMcp,
  consentAndLeave,
  deliverCallback,
  fullLogin,
  MCP_REDIRECT,
  oidcSetup,
  openOnServer,
  OTHER_CLIENT_ID,
  OTHER_CLIENT_SECRET,
  OTHER_REDIRECT,
  redeem,
  RP_CLIENT_ID,
  RP_CLIENT_SECRET,
  tokenSubject,
  type OidcSetup,
} from './helpers.ts';

const payloadOf = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
const upstreamCookie = (response: Response): string | undefined => response.headers.getSetCookie().find((c) => /^(__Host-)?portcullis_upstream=/.test(c));

describe('identityProvider oidc: a real OpenID Connect provider (oidc-provider) signs users in', () => {
  let s: OidcSetup;
  before(async () => {
    s = await oidcSetup();
  });
  after(() => s.close());

  it('UP-03 a full flow: our /authorize → our consent → provider login → our /callback → our code → our token → MCP', async () => {
    const back = await fullLogin(s, s.browser(), 'alice-0001');
    assert.equal(back.origin + back.pathname, MCP_REDIRECT);
    assert.equal(back.searchParams.get('state'), 'client-state-1');
    assert.equal(back.searchParams.get('iss'), s.app.ctx.config.issuer);
    const code = back.searchParams.get('code') ?? '';
    assert.match(code, /^pcc_/, 'the MCP client gets our code (UP-04), not the provider’s');
    const tokens = await redeem(s, code);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal((await callMcp(s.app, String(tokens.body.access_token))).status, 200);
    const user = await s.app.storage.users.byId(tokenSubject(String(tokens.body.access_token)));
    assert.equal(user?.username, 'alice@example.com', 'a new user named after the verified e-mail (read from userinfo)');
  });

  it('UP-03 the provider is asked for code + PKCE S256 + state + nonce + openid, back to our exact callback', async () => {
    const { to } = await consentAndLeave(s, s.browser(), s.url());
    assert.equal(to.origin, s.idp.issuer, 'endpoints come from the provider’s discovery document');
    const q = to.searchParams;
    assert.equal(q.get('client_id'), RP_CLIENT_ID);
    assert.equal(q.get('redirect_uri'), `${TEST_ORIGIN}/callback`);
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(q.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/, '256-bit state');
    assert.match(q.get('nonce') ?? '', /^[A-Za-z0-9_-]{43}$/, '256-bit nonce');
    assert.ok((q.get('scope') ?? '').split(' ').includes('openid'));
    assert.notEqual(q.get('state'), 'client-state-1', 'the client’s state is never passed upstream');
  });

  it('BP-01 BP-03 consent is asked before the user is sent upstream, names the client and host, and says where they sign in next (UP-01, RS-25)', async () => {
    const browser = s.browser();
    const page = await openOnServer(browser, s.app, s.url({ scope: 'tasks:read tasks:write' }));
    assert.equal(page.leftTo, null, 'nothing is sent upstream before consent');
    assert.equal(page.url.pathname, '/consent');
    assert.match(page.html, /Claude Desktop/);
    assert.match(page.html, /<code id="redirect-host">http:\/\/127\.0\.0\.1:8765<\/code>/);
    assert.match(page.html, /See your task list/);
    assert.match(page.html, /you will sign in with <strong>Example SSO<\/strong> next/);
    assert.doesNotMatch(page.html, /Signed in as/, 'nobody is signed in yet');
    assert.match(page.response.headers.get('Content-Security-Policy') ?? '', /frame-ancestors 'none'/);
    assert.ok(parseForms(page.html, page.url)[0]?.inputs.some((i) => i.name === 'csrf_token' && i.value.length >= 40), 'the form carries a CSRF token');
  });

  it('BP-03 the consent form without its CSRF token changes nothing and sends nobody upstream', async () => {
    const browser = s.browser();
    const page = await openOnServer(browser, s.app, s.url());
    const requestId = parseForms(page.html, page.url)[0]!.inputs.find((i) => i.name === 'request')!.value;
    const forged = await browser.send(new URL('/consent', TEST_ORIGIN), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request: requestId, decision: 'allow', csrf_token: 'x'.repeat(43) }).toString(),
    });
    assert.equal(forged.status, 403);
    assert.equal(forged.headers.get('Location'), null);
    assert.equal(upstreamCookie(forged), undefined);
  });

  it('BP-06 the login transaction cookie is set only on the consent approval that redirects upstream', async () => {
    const browser = s.browser();
    const authorize = await browser.send(s.url());
    assert.equal(upstreamCookie(authorize), undefined, 'not at /authorize');
    const page = await browser.send(new URL(authorize.headers.get('Location')!, TEST_ORIGIN));
    assert.equal(upstreamCookie(page), undefined, 'not on the consent page');
    const form = parseForms(await page.text(), new URL(TEST_ORIGIN))[0]!;
    const body = new URLSearchParams(form.inputs.map((i) => [i.name, i.value]));
    body.set('decision', 'allow');
    const allowed = await browser.send(form.action, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    assert.equal(new URL(allowed.headers.get('Location')!).origin, s.idp.issuer);
    const cookie = upstreamCookie(allowed) ?? '';
    assert.match(cookie, /^portcullis_upstream=[A-Za-z0-9_-]{43}; /, 'over http the cookie has no __Host- prefix');
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/, 'Lax: it must come along on the provider’s top-level redirect back');
    assert.match(cookie, /Max-Age=600/, 'ten minutes');
  });

  it('BP-04 over https the transaction cookie is __Host- prefixed and Secure', async () => {
    const https = await oidcSetup({ config: { publicUrl: 'https://mcp.example.com' } });
    try {
      const { response } = await consentAndLeave(https, https.browser(), https.url({ resource: 'https://mcp.example.com/mcp' }));
      const cookie = upstreamCookie(response) ?? '';
      assert.match(cookie, /^__Host-portcullis_upstream=/);
      assert.match(cookie, /; Path=\//);
      assert.match(cookie, /; Secure/);
      assert.doesNotMatch(cookie, /Domain=/i);
    } finally {
      await https.close();
    }
  });

  it('BP-02 the browser is signed in afterwards: the next authorization of a consented client needs neither consent nor the provider', async () => {
    const browser = s.browser();
    await fullLogin(s, browser, 'bob-0002');
    const again = await openOnServer(browser, s.app, s.url({ state: 'second' }));
    assert.ok(again.leftTo, 'redirected straight away');
    assert.equal(again.leftTo.origin + again.leftTo.pathname, MCP_REDIRECT, 'to the client, with a code');
    assert.match(again.leftTo.searchParams.get('code') ?? '', /^pcc_/);
    assert.equal(again.leftTo.searchParams.get('state'), 'second');
  });

  it('OIDC Core §3.1.2.1 prompt=login sends a signed-in browser through consent to the provider again', async () => {
    const browser = s.browser();
    await fullLogin(s, browser, 'bob-0002');
    const { to } = await consentAndLeave(s, browser, s.url({ prompt: 'login' }));
    assert.equal(to.origin, s.idp.issuer);
    assert.equal(to.searchParams.get('prompt'), 'login', 'and asks the provider for a fresh sign-in too');
    const first = await consentAndLeave(s, s.browser(), s.url());
    assert.equal(first.to.searchParams.get('prompt'), null, 'only when the client asked');
  });

  it('OIDC Core §3.1.2.6 prompt=none without a session answers login_required, without a page or the provider', async () => {
    const page = await openOnServer(s.browser(), s.app, s.url({ prompt: 'none' }));
    assert.equal(page.leftTo?.origin + (page.leftTo?.pathname ?? ''), MCP_REDIRECT);
    assert.equal(page.leftTo?.searchParams.get('error'), 'login_required');
  });

  it('UP-06 users are linked by issuer and subject, never by e-mail: a local account with the same address is not taken over', async () => {
    const local = await createUser(s.app.storage, { username: 'mallory@example.com', password: 'local password 123' }, { now: s.app.clock.now(), random: s.app.ctx.random });
    const first = await redeem(s, (await fullLogin(s, s.browser(), 'mallory-0003')).searchParams.get('code')!);
    const upstreamUser = tokenSubject(String(first.body.access_token));
    assert.notEqual(upstreamUser, local.id, 'the local account is not signed in by an upstream identity with its address');
    assert.match((await s.app.storage.users.byId(upstreamUser))?.username ?? '', /^mallory-[0-9a-f]{10}$/, 'the new user gets a free name');
    const second = await redeem(s, (await fullLogin(s, s.browser(), 'mallory-0003')).searchParams.get('code')!);
    assert.equal(tokenSubject(String(second.body.access_token)), upstreamUser, 'the same subject signs in as the same user, from any browser');
    const [link] = await s.app.storage.externalIdentities.listForUser(upstreamUser);
    assert.deepEqual([link?.provider, link?.issuer, link?.subject], ['oidc', s.idp.issuer, 'mallory-0003']);
  });

  it('UP-05 our grants do not depend on the provider’s tokens: refresh works with the provider unreachable', async () => {
    const code = (await fullLogin(s, s.browser(), 'alice-0001')).searchParams.get('code')!;
    const tokens = await redeem(s, code);
    await s.close();
    try {
      const refreshed = await s.app.request('/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: s.client.clientId }),
      });
      assert.equal(refreshed.status, 200);
    } finally {
      s = await oidcSetup();
    }
  });

  it('with an upstream provider no password is ever checked: /login leads to the consent page', async () => {
    const browser = s.browser();
    const page = await openOnServer(browser, s.app, s.url());
    const requestId = parseForms(page.html, page.url)[0]!.inputs.find((i) => i.name === 'request')!.value;
    const shown = await browser.send(new URL(`/login?request=${requestId}`, TEST_ORIGIN));
    assert.equal(new URL(shown.headers.get('Location')!).pathname, '/consent');
    await createUser(s.app.storage, { username: 'localadmin', password: 'local admin password' }, { now: s.app.clock.now(), random: s.app.ctx.random });
    const posted = await browser.send(new URL('/login', TEST_ORIGIN), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request: requestId, username: 'localadmin', password: 'local admin password' }).toString(),
    });
    assert.equal(new URL(posted.headers.get('Location')!).pathname, '/consent', 'no session was started from a password');
    assert.equal(posted.headers.getSetCookie().some((c) => c.startsWith('portcullis_session=')), false);
  });

  it('RFC 6749 §4.1.2.1 Deny on our consent page answers access_denied and sends nobody upstream', async () => {
    const { to, response } = await consentAndLeave(s, s.browser(), s.url(), 'deny');
    assert.equal(to.origin + to.pathname, MCP_REDIRECT);
    assert.equal(to.searchParams.get('error'), 'access_denied');
    assert.equal(to.searchParams.get('state'), 'client-state-1');
    assert.equal(upstreamCookie(response), undefined);
  });
});

describe('identityProvider oidc: the callback refuses what it must', () => {
  let s: OidcSetup;
  /** Rewrites the ID token of the provider's token response, as a network attacker or a broken provider would. */
  let swapIdToken: ((idToken: string) => string | Promise<string>) | null = null;
  before(async () => {
    s = await oidcSetup({
      fetch: (real) => async (input, init) => {
        const response = await real(input, init);
        if (!swapIdToken || !String(input).endsWith('/token')) return response;
        const body = (await response.json()) as Record<string, unknown>;
        body.id_token = await swapIdToken(String(body.id_token));
        return Response.json(body, { status: response.status });
      },
    });
  });
  after(() => s.close());

  /** Consent and login at the provider; the callback URL, not yet delivered. */
  async function upToCallback(login = 'alice-0001', browser = s.browser()) {
    const { to } = await consentAndLeave(s, browser, s.url());
    return { browser, callback: await s.loginUpstream(browser, to, login) };
  }

  async function expectAccessDenied(response: Response): Promise<URL> {
    assert.equal(response.status, 303);
    const to = new URL(response.headers.get('Location')!);
    assert.equal(to.origin + to.pathname, MCP_REDIRECT);
    assert.equal(to.searchParams.get('error'), 'access_denied');
    assert.equal(to.searchParams.get('state'), 'client-state-1');
    assert.equal(to.searchParams.get('iss'), s.app.ctx.config.issuer);
    assert.equal(to.searchParams.get('code'), null);
    return to;
  }

  async function expectRefusedPage(response: Response): Promise<void> {
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('Location'), null, 'no redirect anywhere, so no code');
    assert.match(await response.text(), /This sign-in cannot be completed/);
  }

  it('BP-06 a tampered state is refused (UP-02)', async () => {
    const { browser, callback } = await upToCallback();
    const state = callback.searchParams.get('state')!;
    callback.searchParams.set('state', (state[0] === 'A' ? 'B' : 'A') + state.slice(1));
    await expectRefusedPage(await deliverCallback(browser, callback));
  });

  it('BP-06 a callback without the transaction cookie is refused', async () => {
    const { browser, callback } = await upToCallback();
    browser.jar.set(TEST_ORIGIN, 'portcullis_upstream', 'A'.repeat(43));
    await expectRefusedPage(await deliverCallback(browser, callback));
  });

  it('BP-06 a replayed callback is refused: the transaction is single use (UP-02)', async () => {
    const { browser, callback } = await upToCallback();
    assert.equal((await deliverCallback(browser, callback)).status, 303);
    await expectRefusedPage(await deliverCallback(browser, callback));
  });

  it('BP-06 a transaction expires after 10 minutes', async () => {
    const { browser, callback } = await upToCallback();
    // Forward only (rate limiters and caches assume time does not run back); later tests start afresh.
    s.app.clock.advance(10 * 60_000 + 1);
    await expectRefusedPage(await deliverCallback(browser, callback));
  });

  it('OIDC Core §3.1.3.7 (11) an ID token with another login’s nonce is refused', async () => {
    const other = await loginDirectly(s.idp, { clientId: RP_CLIENT_ID, clientSecret: RP_CLIENT_SECRET, redirectUri: `${TEST_ORIGIN}/callback`, login: 'mallory-0003', nonce: 'attacker-chosen-nonce' });
    const { browser, callback } = await upToCallback();
    assert.match(payloadOf(String(other.id_token)).email as string, /@/, 'the injected ID token names a verified address itself (no userinfo call to trip over)');
    swapIdToken = () => String(other.id_token);
    try {
      await expectAccessDenied(await deliverCallback(browser, callback));
    } finally {
      swapIdToken = null;
    }
    assert.equal((await s.app.storage.users.byUsername('mallory@example.com')), null, 'nobody was signed in as the injected identity');
  });

  it('OIDC Core §3.1.3.7 (3) an ID token issued to another client of the provider is refused (audience)', async () => {
    const other = await loginDirectly(s.idp, { clientId: OTHER_CLIENT_ID, clientSecret: OTHER_CLIENT_SECRET, redirectUri: OTHER_REDIRECT, login: 'mallory-0003' });
    const { browser, callback } = await upToCallback();
    assert.match(payloadOf(String(other.id_token)).email as string, /@/, 'the injected ID token names a verified address itself (no userinfo call to trip over)');
    swapIdToken = () => String(other.id_token);
    try {
      await expectAccessDenied(await deliverCallback(browser, callback));
    } finally {
      swapIdToken = null;
    }
    assert.equal(await s.app.storage.users.byUsername('mallory@example.com'), null, 'nobody was signed in as mallory');
  });

  it('OIDC Core §3.1.3.7 (6) an ID token whose claims were altered fails its signature check against the provider’s JWKS', async () => {
    const { browser, callback } = await upToCallback();
    swapIdToken = (idToken) => {
      const [header, payload, signature] = idToken.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
      // Someone else, with a verified address so no userinfo call could notice: only the signature can.
      Object.assign(claims, { sub: 'bob-0002', email: 'bob@example.com', email_verified: true });
      return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    };
    try {
      await expectAccessDenied(await deliverCallback(browser, callback));
    } finally {
      swapIdToken = null;
    }
    assert.equal(await s.app.storage.users.byUsername('bob@example.com'), null, 'nobody was signed in as bob');
  });

  it('OIDC Core §3.1.3.7 (9) an expired ID token is refused (time from our clock)', async () => {
    const short = await oidcSetup({ idTokenTtlSeconds: 60 });
    try {
      const browser = short.browser();
      const { to } = await consentAndLeave(short, browser, short.url());
      const callback = await short.loginUpstream(browser, to, 'alice-0001');
      short.app.clock.advance(5 * 60_000);
      const response = await deliverCallback(browser, callback);
      assert.equal(new URL(response.headers.get('Location')!).searchParams.get('error'), 'access_denied');
    } finally {
      await short.close();
    }
  });

  it('RFC 9207 UP-03 a callback whose iss is not the provider (mix-up) is refused', async () => {
    const { browser, callback } = await upToCallback();
    assert.equal(callback.searchParams.get('iss'), s.idp.issuer, 'the provider sends iss');
    callback.searchParams.set('iss', 'https://attacker.example');
    await expectAccessDenied(await deliverCallback(browser, callback));
  });

  it('UP-03 a callback whose code was not issued for this transaction’s PKCE verifier is refused', async () => {
    const first = await upToCallback('alice-0001');
    const second = await upToCallback('alice-0001', first.browser);
    // The second login's code, under the first login's state: the provider checks PKCE and refuses.
    const mixed = new URL(first.callback);
    mixed.searchParams.set('code', second.callback.searchParams.get('code')!);
    await expectAccessDenied(await deliverCallback(first.browser, mixed));
  });

  it('RFC 6749 §4.1.2.1 a provider error reaches the client as access_denied, in our words only', async () => {
    const browser = s.browser();
    const { to } = await consentAndLeave(s, browser, s.url());
    const { signInAtProvider } = await import('../fixtures/oidc-provider.ts');
    const callback = await signInAtProvider(browser.send, to, { login: 'alice-0001', decision: 'deny' });
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('error_description'), UPSTREAM_DENIAL_DESCRIPTION, 'the provider did send its text');
    const denied = await expectAccessDenied(await deliverCallback(browser, callback));
    assert.equal(denied.searchParams.get('error_description'), 'Signing in with Example SSO did not complete.');
    const reflected = denied.searchParams.toString() + [...denied.searchParams.values()].join(' ');
    for (const fragment of ['said no', 'alert', '<script>']) assert.ok(!reflected.includes(fragment), `the provider’s text (${fragment}) is not reflected`);
  });

  it('UP-03 OIDC Discovery §4.3 a provider whose metadata names another issuer is not used', async () => {
    const liar = await oidcSetup({
      fetch: (real) => async (input, init) => {
        const response = await real(input, init);
        if (!String(input).includes('/.well-known/openid-configuration')) return response;
        const body = (await response.json()) as Record<string, unknown>;
        return Response.json({ ...body, issuer: 'https://impostor.example' });
      },
    });
    try {
      const { to, response } = await consentAndLeave(liar, liar.browser(), liar.url());
      assert.equal(to.origin + to.pathname, MCP_REDIRECT, 'the client is told, nobody goes upstream');
      assert.equal(to.searchParams.get('error'), 'temporarily_unavailable');
      assert.equal(upstreamCookie(response), undefined);
    } finally {
      await liar.close();
    }
  });
});
