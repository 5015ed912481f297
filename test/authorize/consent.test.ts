import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashSecret } from '../../src/util/crypto.ts';
import { authorizeWithForms, cookieJar, registerPublicClient } from '../helpers/oauth-flow.ts';
import { location, openConsent, PASSWORD, pressAllow, pressDeny, REDIRECT, setup, signIn, testBrowser, USERNAME } from './setup.ts';

const HOSTILE = `<script>alert('pwned')</script><img src=x onerror=alert(1)> "Claude"`;

describe('consent page', () => {
  it('AS-17 shows the client name and the host it will send the user back to', async () => {
    const f = await setup({ client: { redirectUris: ['https://notes.example.com/oauth/cb'], clientName: 'Notes Web' } });
    const page = await openConsent(testBrowser(f), f.url());
    assert.equal(page.url.pathname, '/consent');
    assert.match(page.html, /Notes Web/);
    assert.match(page.html, /<code id="redirect-host">notes\.example\.com<\/code>/);
    assert.doesNotMatch(page.html, /runs on your computer/, 'no loopback warning for an https client');
  });

  it('AS-17 HARD-5 for a loopback client the scheme and host shown include the port the request named', async () => {
    const f = await setup();
    const page = await openConsent(testBrowser(f), f.url({ redirect_uri: 'http://127.0.0.1:50999/callback' }));
    assert.match(page.html, /<code id="redirect-host">http:\/\/127\.0\.0\.1:50999<\/code>/);
  });

  it('AS-17 HARD-5 for a private-use scheme the scheme is shown with the host, so it does not read as a website', async () => {
    const f = await setup({ client: { redirectUris: ['cursor://anysphere.cursor-retrieval/oauth/callback'] } });
    const page = await openConsent(testBrowser(f), f.url());
    assert.match(page.html, /<code id="redirect-host">cursor:\/\/anysphere\.cursor-retrieval<\/code>/);
  });

  it('HARD-5 a private-use scheme without a host shows the scheme', async () => {
    const f = await setup({ client: { redirectUris: ['com.example.notes:/oauth/callback'] } });
    const page = await openConsent(testBrowser(f), f.url());
    assert.match(page.html, /<code id="redirect-host">com\.example\.notes:<\/code>/);
  });

  for (const uri of ['web+x://claude.ai/cb', 'googlechrome://claude.ai/cb', 'microsoft-edge-https://claude.ai/cb', 'intent://claude.ai/cb']) {
    it(`HARD-5 a client registered before the scheme rule with ${uri.split(':')[0]}: is refused at authorization, with no redirect`, async () => {
      // Stored directly, as a client registered before the rule existed would be.
      const f = await setup({ client: { redirectUris: [uri] } });
      const response = await f.app.request(f.url().href);
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('Location'), null);
      assert.match(await response.text(), /return address \(redirect_uri\) is not acceptable/);
    });
  }

  it('AS-15 a client whose redirect URIs are all loopback gets a warning', async () => {
    const f = await setup();
    const page = await openConsent(testBrowser(f), f.url());
    assert.match(page.html, /This application runs on your computer/);
  });

  it('SEC-26 lists each scope with its description, the resource and the signed-in user', async () => {
    const f = await setup();
    const page = await openConsent(testBrowser(f), f.url({ scope: 'tasks:read tasks:write offline_access openid' }));
    for (const text of [
      'See your task list',
      'Add, complete and delete tasks in your task list',
      'Stay connected when you are not using it (refresh tokens)',
      'Know your username',
      'http://localhost:3000/mcp',
      '<strong>alice</strong>',
    ]) {
      assert.ok(page.html.includes(text), `consent page shows ${text}`);
    }
  });

  it('SEC-09 a hostile client_name is escaped on the login and consent pages', async () => {
    const f = await setup({ client: { clientName: HOSTILE } });
    const browser = testBrowser(f);
    const login = await browser.open(f.url());
    const consent = await browser.open(location(await browser.submit(login.form!, { username: USERNAME, password: PASSWORD })));
    for (const html of [login.html, consent.html]) {
      assert.ok(!html.includes('<script>alert'), 'no script tag');
      assert.ok(!html.includes('<img src=x'), 'no injected element');
      assert.ok(html.includes('&lt;script&gt;'), 'the name is shown, escaped');
    }
  });

  it('SEC-22 the consent page carries the page security headers and no CORS', async () => {
    const f = await setup();
    const page = await openConsent(testBrowser(f), f.url());
    const h = page.response.headers;
    assert.match(h.get('Content-Security-Policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(h.get('X-Frame-Options'), 'DENY');
    assert.equal(h.get('Referrer-Policy'), 'no-referrer');
    assert.equal(h.get('Cache-Control'), 'no-store');
    assert.equal(h.get('Access-Control-Allow-Origin'), null);
  });

  it('without a session, the consent page sends the browser to sign in', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    const consentUrl = location(await signIn(browser, f.url()));
    const response = await testBrowser(f).send(consentUrl);
    assert.equal(response.status, 303);
    assert.equal(location(response).pathname, '/login');
  });
});

describe('consent decision', () => {
  it('SEC-21 Allow answers 303 to the redirect URI with code, state and iss', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    const page = await openConsent(browser, f.url());
    const response = await browser.submit(page.form!, {}, pressAllow);
    assert.equal(response.status, 303);
    const to = location(response);
    assert.ok(to.href.startsWith(REDIRECT + '?code=pcc_'));
    assert.equal(to.searchParams.get('state'), 'xyz-state');
    assert.equal(to.searchParams.get('iss'), 'http://localhost:3000');
    assert.equal(response.headers.get('Cache-Control'), 'no-store');
    assert.ok(f.app.logger.records().some((r) => r.msg === 'consent.granted' && r.client_id === f.client.clientId));
  });

  it('Deny answers 303 with error=access_denied, state and iss, and issues no code', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    const page = await openConsent(browser, f.url());
    const response = await browser.submit(page.form!, {}, pressDeny);
    assert.equal(response.status, 303);
    const to = location(response);
    assert.ok(to.href.startsWith(REDIRECT + '?'));
    assert.equal(to.searchParams.get('error'), 'access_denied');
    assert.equal(to.searchParams.get('state'), 'xyz-state');
    assert.equal(to.searchParams.get('iss'), 'http://localhost:3000');
    assert.equal(to.searchParams.get('code'), null);
    assert.ok(f.app.logger.records().some((r) => r.msg === 'consent.denied'));
    const user = await f.app.storage.users.byUsername(USERNAME);
    assert.equal(await f.app.storage.consents.get(user!.id, f.client.clientId), null, 'a denial is not remembered as consent');
  });

  it('a double submit of the consent form yields one code', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    const page = await openConsent(browser, f.url());
    const responses = await Promise.all([browser.submit(page.form!, {}, pressAllow), browser.submit(page.form!, {}, pressAllow)]);
    const codes = responses.map((r) => r.headers.get('Location')).filter((l) => l?.includes('code='));
    assert.equal(codes.length, 1, 'exactly one code');
    const other = responses.find((r) => !r.headers.get('Location'));
    assert.equal(other?.status, 400);
    assert.match(await other!.text(), /expired or was already answered/);
  });

  it('CSRF: a decision without the form token, or with a wrong one, changes nothing', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    const page = await openConsent(browser, f.url());
    const requestId = page.form!.inputs.find((i) => i.name === 'request')!.value;
    const missing = await browser.post('/consent', { request: requestId, decision: 'allow' });
    const wrong = await browser.submit(page.form!, { csrf_token: 'x'.repeat(43) }, pressAllow);
    for (const response of [missing, wrong]) {
      assert.equal(response.status, 403);
      assert.equal(response.headers.get('Location'), null);
    }
    const user = await f.app.storage.users.byUsername(USERNAME);
    assert.equal(await f.app.storage.consents.get(user!.id, f.client.clientId), null, 'no consent remembered');
    assert.ok(await f.app.storage.authorizationRequests.get(requestId, f.app.clock.now()), 'the request is still pending');
    assert.equal((await browser.submit(page.form!, {}, pressAllow)).status, 303, 'the genuine form still works');
  });

  it('CSRF: a consent token from another session is refused', async () => {
    const f = await setup();
    const victim = testBrowser(f);
    const attacker = testBrowser(f);
    const attackerPage = await openConsent(attacker, f.url());
    await signIn(victim, f.url());
    const response = await victim.submit(attackerPage.form!, {}, pressAllow);
    assert.equal(response.status, 403);
  });

  it('a decision that is neither allow nor deny changes nothing', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    const page = await openConsent(browser, f.url());
    const requestId = page.form!.inputs.find((i) => i.name === 'request')!.value;
    const csrfToken = page.form!.inputs.find((i) => i.name === 'csrf_token')!.value;
    const response = await browser.post('/consent', { request: requestId, csrf_token: csrfToken, decision: 'maybe' });
    assert.equal(response.status, 400);
    assert.ok(await f.app.storage.authorizationRequests.get(requestId, f.app.clock.now()), 'still pending');
  });
});

describe('remembered consent', () => {
  it('consent is remembered per user and client: the next authorization skips the page', async () => {
    const f = await setup();
    const jar = cookieJar();
    const pages: string[] = [];
    const flow = (url: URL) => authorizeWithForms({ fetch: f.fetch, jar, authorizationUrl: url, username: USERNAME, password: PASSWORD, onPage: (p) => pages.push(p.url.pathname) });
    assert.ok((await flow(f.url())).searchParams.get('code'));
    assert.deepEqual(pages, ['/login', '/consent']);
    pages.length = 0;
    const second = await flow(f.url({ state: 'second' }));
    assert.ok(second.searchParams.get('code'));
    assert.equal(second.searchParams.get('state'), 'second');
    assert.deepEqual(pages, [], 'no login, no consent');
    assert.ok(f.app.logger.records().some((r) => r.msg === 'consent.reused'));
  });

  it('consent is asked again for a scope not granted before, and then remembered as the union', async () => {
    const f = await setup();
    const jar = cookieJar();
    const pages: string[] = [];
    const flow = (url: URL) => authorizeWithForms({ fetch: f.fetch, jar, authorizationUrl: url, username: USERNAME, password: PASSWORD, onPage: (p) => pages.push(p.url.pathname) });
    await flow(f.url({ scope: 'tasks:read' }));
    pages.length = 0;
    await flow(f.url({ scope: 'tasks:read tasks:write' }));
    assert.deepEqual(pages, ['/consent']);
    const user = await f.app.storage.users.byUsername(USERNAME);
    assert.deepEqual((await f.app.storage.consents.get(user!.id, f.client.clientId))?.scopes, ['tasks:read', 'tasks:write']);
    pages.length = 0;
    await flow(f.url({ scope: 'tasks:write' }));
    assert.deepEqual(pages, [], 'a subset of what was granted needs no page');
  });

  it('remembered consent: the code is issued at once, with no pending request stored or taken; a page still stores one', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    await authorizeWithForms({ fetch: f.fetch, jar: browser.jar, authorizationUrl: f.url(), username: USERNAME, password: PASSWORD });

    const requests = f.app.storage.authorizationRequests;
    const { create, take } = requests;
    const calls: string[] = [];
    requests.create = (record) => (calls.push('create'), create.call(requests, record));
    requests.take = (id, now) => (calls.push('take'), take.call(requests, id, now));
    try {
      const back = location(await browser.send(f.url({ state: 'returning' })));
      assert.equal(back.origin + back.pathname, REDIRECT);
      assert.equal(back.searchParams.get('state'), 'returning');
      assert.equal(back.searchParams.get('iss'), 'http://localhost:3000');
      const code = back.searchParams.get('code');
      assert.ok(code);
      assert.deepEqual(calls, [], 'no pending-request write on the returning path');
      // The code carries the request's bindings and is single-use, as one from a stored request.
      const first = await f.app.storage.authorizationCodes.redeem(hashSecret(code), f.app.clock.now(), f.app.clock.now() + 60_000);
      assert.equal(first.status, 'ok');
      assert.equal(first.status === 'ok' && first.code.codeChallenge, f.pkce.challenge);
      assert.equal(first.status === 'ok' && first.code.redirectUri, REDIRECT);
      assert.equal((await f.app.storage.authorizationCodes.redeem(hashSecret(code), f.app.clock.now(), f.app.clock.now() + 60_000)).status, 'replayed');

      // A page must be shown (prompt=consent): the request is stored, under the id the page carries.
      const page = await browser.open(f.url({ prompt: 'consent' }));
      assert.equal(page.url.pathname, '/consent');
      assert.deepEqual(calls, ['create']);
      const requestId = page.form!.inputs.find((i) => i.name === 'request')!.value;
      assert.ok(await take.call(requests, requestId, f.app.clock.now()), 'the consent page names a stored request');
    } finally {
      requests.create = create;
      requests.take = take;
    }
  });

  it('OIDC prompt=consent asks again even when consent was given', async () => {
    const f = await setup();
    const jar = cookieJar();
    const pages: string[] = [];
    const flow = (url: URL) => authorizeWithForms({ fetch: f.fetch, jar, authorizationUrl: url, username: USERNAME, password: PASSWORD, onPage: (p) => pages.push(p.url.pathname) });
    await flow(f.url());
    pages.length = 0;
    await flow(f.url({ prompt: 'consent' }));
    assert.deepEqual(pages, ['/consent']);
  });

  it('consent for one client is not consent for another', async () => {
    const f = await setup();
    const jar = cookieJar();
    await authorizeWithForms({ fetch: f.fetch, jar, authorizationUrl: f.url(), username: USERNAME, password: PASSWORD });
    const other = await registerPublicClient(f.app.storage, { redirectUris: [REDIRECT], clientName: 'Other' });
    const pages: string[] = [];
    await authorizeWithForms({ fetch: f.fetch, jar, authorizationUrl: f.url({ client_id: other.clientId }), username: USERNAME, password: PASSWORD, onPage: (p) => pages.push(p.url.pathname) });
    assert.deepEqual(pages, ['/consent']);
  });

  it('OIDC prompt=none with a session but no consent is consent_required; with consent it yields a code', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    await signIn(browser, f.url());
    const needConsent = location(await browser.send(f.url({ prompt: 'none' })));
    assert.equal(needConsent.searchParams.get('error'), 'consent_required');
    assert.equal(needConsent.searchParams.get('iss'), 'http://localhost:3000');
    await authorizeWithForms({ fetch: f.fetch, jar: browser.jar, authorizationUrl: f.url(), username: USERNAME, password: PASSWORD });
    const silent = location(await browser.send(f.url({ prompt: 'none' })));
    assert.ok(silent.searchParams.get('code'));
  });
});

describe('no secrets in logs', () => {
  it('a whole flow logs no password, code, session cookie or CSRF token', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    const login = await browser.open(f.url());
    const loginToken = login.form!.inputs.find((i) => i.name === 'csrf_token')!.value;
    const afterLogin = await browser.submit(login.form!, { username: USERNAME, password: PASSWORD });
    const consent = await browser.open(location(afterLogin));
    const consentToken = consent.form!.inputs.find((i) => i.name === 'csrf_token')!.value;
    const done = location(await browser.submit(consent.form!, {}, pressAllow));
    const code = done.searchParams.get('code')!;
    const secrets = [
      PASSWORD,
      code,
      hashSecret(code),
      browser.jar.get(f.app.origin, 'portcullis_session')!,
      loginToken,
      consentToken,
      f.pkce.challenge,
    ];
    const log = f.app.logger.lines.join('\n');
    assert.ok(f.app.logger.lines.length >= 2, 'the flow was audited');
    for (const secret of secrets) assert.ok(secret && !log.includes(secret), `log contains ${secret}`);
  });
});
