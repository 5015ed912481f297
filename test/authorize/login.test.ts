import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOGIN_FAILED_MESSAGE } from '../../src/authorization/endpoints/login.ts';
import { hashSecret } from '../../src/util/crypto.ts';
import { authorizeWithForms, inProcessFetch, pageMessage, type FetchLike } from '../helpers/oauth-flow.ts';
import { location, PASSWORD, setup, signIn, testBrowser, USERNAME, type Fixture } from './setup.ts';

const setCookies = (response: Response) => response.headers.getSetCookie();
const sessionCookie = (response: Response) => setCookies(response).find((c) => /^(__Host-)?portcullis_session=/.test(c));
const cookieValue = (header: string) => header.slice(header.indexOf('=') + 1).split(';')[0] ?? '';
const address = (ip: string) => ({ incoming: { socket: { remoteAddress: ip } } });

async function openLogin(f: Fixture, browser = testBrowser(f), url = f.url()) {
  const page = await browser.open(url);
  assert.equal(page.url.pathname, '/login');
  assert.ok(page.form, 'the login page has a form');
  return { browser, page, form: page.form };
}

describe('login page', () => {
  it('without a session, /authorize sends the browser to the login page with a 303', async () => {
    const f = await setup();
    const response = await f.app.request(f.url().href);
    assert.equal(response.status, 303);
    const to = location(response);
    assert.equal(to.origin + to.pathname, 'http://localhost:3000/login');
    // HARD-2: the link carries the request sealed; nothing is stored before someone signs in.
    assert.match(to.searchParams.get('request') ?? '', /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  });

  it('SEC-22 the login page carries CSP frame-ancestors none, X-Frame-Options, no-referrer and no-store, and no CORS', async () => {
    const f = await setup();
    const { page } = await openLogin(f);
    const h = page.response.headers;
    assert.equal(page.response.status, 200);
    assert.match(h.get('Content-Security-Policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(h.get('X-Frame-Options'), 'DENY');
    assert.equal(h.get('Referrer-Policy'), 'no-referrer');
    assert.equal(h.get('Cache-Control'), 'no-store');
    assert.equal(h.get('Access-Control-Allow-Origin'), null);
  });

  it('CSRF: the form token is bound to an HttpOnly cookie whose value never appears in the page', async () => {
    const f = await setup();
    const { browser, page, form } = await openLogin(f);
    const cookie = setCookies(page.response).find((c) => c.startsWith('portcullis_login_csrf='));
    assert.ok(cookie, 'a pre-login CSRF cookie is set');
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    const nonce = browser.jar.get(f.app.origin, 'portcullis_login_csrf')!;
    const token = form.inputs.find((i) => i.name === 'csrf_token')?.value;
    assert.ok(token && token !== nonce);
    assert.ok(!page.html.includes(nonce), 'the cookie secret is not in the page');
  });

  it('a login page for an unknown or expired request is an error page', async () => {
    const f = await setup();
    const response = await f.app.request('/login?request=nonexistent');
    assert.equal(response.status, 400);
    assert.match(await response.text(), /expired/);
  });
});

describe('POST /login', () => {
  it('SEC-21 a successful login answers 303 (never 307) and continues to consent', async () => {
    const f = await setup();
    const response = await signIn(testBrowser(f), f.url());
    assert.equal(response.status, 303);
    assert.equal(location(response).pathname, '/consent');
  });

  it('the session cookie is HttpOnly, SameSite=Lax, Path=/, not Secure over http, and only its hash is stored', async () => {
    const f = await setup();
    const response = await signIn(testBrowser(f), f.url());
    const cookie = sessionCookie(response);
    assert.ok(cookie, 'a session cookie is set');
    assert.match(cookie, /^portcullis_session=pcx_[A-Za-z0-9_-]{43};/);
    for (const attribute of ['HttpOnly', 'SameSite=Lax', 'Path=/']) assert.ok(cookie.split('; ').includes(attribute), attribute);
    assert.ok(!/Secure/.test(cookie));
    assert.ok(!/Domain/i.test(cookie));
    const value = cookieValue(cookie);
    assert.ok(await f.app.storage.loginSessions.get(hashSecret(value), f.app.clock.now()), 'stored under its hash');
    assert.equal(await f.app.storage.loginSessions.get(value, f.app.clock.now()), null, 'not under its value');
  });

  it('cookies are __Host- prefixed and Secure when the server is on https', async () => {
    const f = await setup({ config: { publicUrl: 'https://auth.example.com' } });
    const seen: string[] = [];
    const fetch: FetchLike = async (input, init) => {
      const response = await inProcessFetch(f.app.app)(input, init);
      seen.push(...response.headers.getSetCookie());
      return response;
    };
    const url = new URL(f.url().pathname + f.url().search, 'https://auth.example.com');
    const back = await authorizeWithForms({ fetch, authorizationUrl: url, username: USERNAME, password: PASSWORD });
    assert.ok(back.searchParams.get('code'));
    const session = seen.find((c) => c.startsWith('__Host-portcullis_session='));
    const csrf = seen.find((c) => c.startsWith('__Host-portcullis_login_csrf='));
    for (const cookie of [session, csrf]) {
      assert.ok(cookie, 'prefixed cookie set');
      for (const attribute of ['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/']) assert.ok(cookie.split('; ').includes(attribute), `${attribute} in ${cookie}`);
      assert.ok(!/Domain/i.test(cookie));
    }
    assert.ok(!seen.some((c) => /^portcullis_/.test(c)), 'no unprefixed cookie');
  });

  it('usernames are case-insensitive and surrounding spaces are ignored', async () => {
    const f = await setup();
    const response = await signIn(testBrowser(f), f.url(), { username: '  ALICE ' });
    assert.equal(response.status, 303);
  });

  it('a wrong password and an unknown user get the same generic message, and no session', async () => {
    const f = await setup();
    const { browser, form } = await openLogin(f);
    const wrong = await browser.submit(form, { username: USERNAME, password: 'not the password' });
    const unknown = await browser.submit(form, { username: 'mallory', password: 'not the password' });
    for (const response of [wrong, unknown]) {
      assert.equal(response.status, 400);
      assert.equal(pageMessage(await response.text()), LOGIN_FAILED_MESSAGE);
      assert.equal(sessionCookie(response), undefined);
    }
  });

  it('an empty username or password is asked for again without counting as a failure', async () => {
    const f = await setup();
    const { browser, form } = await openLogin(f);
    const response = await browser.submit(form, { username: USERNAME, password: '' });
    assert.equal(response.status, 400);
    assert.match(pageMessage(await response.text()), /Enter your username and password/);
    assert.ok(!f.app.logger.lines.some((l) => l.includes('login.failed')));
  });

  it('audit: login.succeeded and login.failed are logged, without password, cookie or attempted unknown names', async () => {
    const f = await setup();
    const { browser, form } = await openLogin(f);
    await browser.submit(form, { username: USERNAME, password: 'wrong password 1' });
    await browser.submit(form, { username: 'typed-my-Secret-here', password: 'wrong password 2' });
    const ok = await browser.submit(form, { username: USERNAME, password: PASSWORD });
    const records = f.app.logger.records();
    const failed = records.filter((r) => r.msg === 'login.failed');
    assert.deepEqual(failed.map((r) => r.reason), ['wrong_password', 'unknown_user']);
    assert.equal(failed[0]?.username, USERNAME);
    assert.ok(records.some((r) => r.msg === 'login.succeeded' && r.username === USERNAME && r.audit === true));
    const log = f.app.logger.lines.join('\n');
    for (const secret of [PASSWORD, 'wrong password 1', 'wrong password 2', 'typed-my-Secret-here', cookieValue(sessionCookie(ok)!)]) {
      assert.ok(!log.includes(secret), `log must not contain ${secret}`);
    }
  });

  it('CSRF: a login without the form token is refused with no state change', async () => {
    const f = await setup();
    const { browser, form } = await openLogin(f);
    const requestId = form.inputs.find((i) => i.name === 'request')!.value;
    const response = await browser.post('/login', { request: requestId, username: USERNAME, password: PASSWORD });
    assert.equal(response.status, 403);
    assert.equal(sessionCookie(response), undefined, 'no session');
    assert.ok(!f.app.logger.lines.some((l) => l.includes('login.')), 'no login attempt was counted');
    // The request is still pending: the real form still works.
    assert.equal((await browser.submit(form, { username: USERNAME, password: PASSWORD })).status, 303);
  });

  it('CSRF: a wrong token, or a right token without its cookie, is refused', async () => {
    const f = await setup();
    const { browser, form } = await openLogin(f);
    const wrong = await browser.submit(form, { username: USERNAME, password: PASSWORD, csrf_token: 'A'.repeat(43) });
    assert.equal(wrong.status, 403);
    assert.equal(sessionCookie(wrong), undefined);

    // An attacker's page posting the victim's (or its own) token from a browser without the cookie.
    const otherBrowser = testBrowser(f);
    const stolen = await otherBrowser.submit(form, { username: USERNAME, password: PASSWORD });
    assert.equal(stolen.status, 403);
    assert.equal(sessionCookie(stolen), undefined);
  });

  it('CSRF: a token is bound to its authorization request', async () => {
    const f = await setup();
    const { browser, form } = await openLogin(f);
    const { form: other } = await openLogin(f, browser);
    const otherRequest = other.inputs.find((i) => i.name === 'request')!.value;
    const response = await browser.submit(form, { username: USERNAME, password: PASSWORD, request: otherRequest });
    assert.equal(response.status, 403);
  });
});

describe('login back-off', () => {
  it('after 5 failures for a username, logins are refused with 429 without checking the password, with a growing delay', async () => {
    const f = await setup();
    const { browser, form } = await openLogin(f);
    for (let i = 0; i < 5; i++) {
      const response = await browser.submit(form, { username: USERNAME, password: `wrong ${i}` });
      assert.equal(response.status, 400, `attempt ${i + 1}`);
    }
    // Locked: even the right password is refused, and the refusal does not count as another failure.
    for (let i = 0; i < 3; i++) {
      const locked = await browser.submit(form, { username: USERNAME, password: PASSWORD });
      assert.equal(locked.status, 429);
      assert.equal(locked.headers.get('Retry-After'), '30');
      assert.match(pageMessage(await locked.text()), /Too many failed sign-in attempts\. Wait 30 seconds/);
      assert.equal(sessionCookie(locked), undefined);
    }
    // After the lock, one more failure locks for twice as long (6th counted failure, not 9th).
    f.app.clock.advance(31_000);
    assert.equal((await browser.submit(form, { username: USERNAME, password: 'wrong again' })).status, 400);
    const longer = await browser.submit(form, { username: USERNAME, password: PASSWORD });
    assert.equal(longer.status, 429);
    assert.equal(longer.headers.get('Retry-After'), '60');
    f.app.clock.advance(61_000);
    assert.equal((await browser.submit(form, { username: USERNAME, password: PASSWORD })).status, 303, 'the right password works once the lock ends');
  });

  it('a successful login clears the username counter', async () => {
    const f = await setup();
    const { browser, form } = await openLogin(f);
    for (let i = 0; i < 4; i++) await browser.submit(form, { username: USERNAME, password: `wrong ${i}` });
    assert.equal((await browser.submit(form, { username: USERNAME, password: PASSWORD })).status, 303);
    const again = await openLogin(f, testBrowser(f));
    for (let i = 0; i < 4; i++) assert.equal((await again.browser.submit(again.form, { username: USERNAME, password: `wrong ${i}` })).status, 400);
  });

  it('after 20 failures from one address, that address is refused; others are not', async () => {
    const f = await setup();
    const { browser, form } = await openLogin(f, testBrowser(f, { env: address('203.0.113.7') }));
    for (let i = 0; i < 20; i++) {
      assert.equal((await browser.submit(form, { username: `user${i}`, password: 'guess' })).status, 400);
    }
    assert.equal((await browser.submit(form, { username: USERNAME, password: PASSWORD })).status, 429);
    const elsewhere = await openLogin(f, testBrowser(f, { env: address('198.51.100.1') }));
    assert.equal((await elsewhere.browser.submit(elsewhere.form, { username: USERNAME, password: PASSWORD })).status, 303);
  });
});

describe('sessions and prompt', () => {
  it('a signed-in browser is not asked for its password again', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    await signIn(browser, f.url());
    const page = await browser.open(f.url());
    assert.equal(page.url.pathname, '/consent');
  });

  it('OIDC prompt=login asks for the password even with a session', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    await signIn(browser, f.url());
    const page = await browser.open(f.url({ prompt: 'login' }));
    assert.equal(page.url.pathname, '/login');
    const response = await browser.submit(page.form!, { username: USERNAME, password: PASSWORD });
    assert.equal(location(response).pathname, '/consent', 'after the fresh login the flow continues');
  });

  it('OIDC prompt=none without a session is login_required, with state and iss', async () => {
    const f = await setup();
    const response = await f.app.request(f.url({ prompt: 'none' }).href);
    assert.equal(response.status, 303);
    const to = location(response);
    assert.equal(to.searchParams.get('error'), 'login_required');
    assert.equal(to.searchParams.get('state'), 'xyz-state');
    assert.equal(to.searchParams.get('iss'), 'http://localhost:3000');
  });

  it('SEC-08 prompt=none without a session, for a self-registered client: an error page, no redirect', async () => {
    const f = await setup({ client: { source: 'dcr' } });
    const response = await f.app.request(f.url({ prompt: 'none' }).href);
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('Location'), null, 'the browser is not sent to an unverified redirect URI');
    assert.match(await response.text(), /<html/i);
  });

  it('a login session ends after loginSessionTtl', async () => {
    const f = await setup({ config: { loginSessionTtl: 600 } });
    const browser = testBrowser(f);
    await signIn(browser, f.url());
    f.app.clock.advance(601_000);
    assert.equal((await browser.open(f.url())).url.pathname, '/login');
  });

  it('logout needs the session-bound token, ends the session and clears the cookie', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    const cookie = cookieValue(sessionCookie(await signIn(browser, f.url()))!);

    const forged = await browser.post('/logout', {});
    assert.equal(forged.status, 403);
    assert.ok(await f.app.storage.loginSessions.get(hashSecret(cookie), f.app.clock.now()), 'still signed in');

    const page = await browser.open('http://localhost:3000/logout');
    assert.match(page.html, /signed in as <strong>alice<\/strong>/);
    const response = await browser.submit(page.form!);
    assert.equal(response.status, 303);
    assert.ok(setCookies(response).some((c) => /^portcullis_session=;.*Max-Age=0/.test(c)));
    assert.equal(await f.app.storage.loginSessions.get(hashSecret(cookie), f.app.clock.now()), null);
    assert.equal((await browser.open(f.url())).url.pathname, '/login');
  });
});
