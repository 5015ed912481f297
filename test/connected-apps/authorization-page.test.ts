/**
 * The Authorization URL page against the Stytch fixture, in process (a cookie-keeping "browser"
 * follows the redirects between Portcullis and Stytch): bad requests and Stytch's refusals become
 * error pages and never a redirect or a 500, the consent form needs its CSRF token, consent already
 * given skips the page, the login callback is single use and bound to the browser, and an
 * unreachable Stytch is a 503 page.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/resolve.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { TASKS_POLICY } from '../fixtures/stytch/connected-apps.ts';
import { createStytchProject, type StytchProject } from '../fixtures/stytch/project.ts';
import { createStytchProjectFixture, type StytchProjectFixture } from '../fixtures/stytch/stytch-project.ts';
import { browserFetch, cookieJar, parseForms, formData, type FetchLike } from '../helpers/oauth-flow.ts';
import { ORIGIN, PAGE, REDIRECT, pageAuthorizeUrl, registerPageClient } from './page-harness.ts';


describe('the Stytch Authorization URL page', () => {
  const clock = new ManualClock(Date.now());
  let project: StytchProject;
  let stytch: StytchProjectFixture;
  let portcullis: Portcullis;
  let logger: ReturnType<typeof createMemoryLogger>;
  let clientId = '';
  let stytchUp = true;

  before(async () => {
    project = createStytchProject('https://stytch.fixture.test');
    stytch = await createStytchProjectFixture({ project, clock, redirectUrls: [`${PAGE}/callback?tx={}`] });
    stytch.connectedApps.setAuthorizationUrl(PAGE);
    logger = createMemoryLogger();
    portcullis = await createPortcullis({
      config: resolveConfig({
        publicUrl: ORIGIN,
        database: ':memory:',
        authorizationServer: { issuer: project.baseUrl, verifier: 'stytch' },
        identityProvider: { kind: 'local', stytch: { projectId: project.projectId, secret: project.secret, publicToken: stytch.login.publicToken, apiUrl: `${project.baseUrl}/v1` } },
      }),
      storage: await openSqliteStorage(':memory:'),
      clock,
      logger,
      fetch: async (input, init) => {
        if (!stytchUp) throw new TypeError('fetch failed');
        return stytch.app.fetch(new Request(input, init));
      },
    });
    clientId = await registerPageClient(stytch, project);
  });

  /** A browser: cookies per host, each origin answered by its app in process. */
  function newBrowser(): FetchLike {
    return browserFetch(async (input, init) => {
      const request = new Request(input, init);
      return new URL(request.url).origin === ORIGIN ? portcullis.app.fetch(request) : stytch.app.fetch(request);
    }, cookieJar());
  }

  const authorizeUrl = (params: Record<string, string> = {}) => pageAuthorizeUrl(clientId, { response_type: 'code', state: 'st-1', ...params });

  /** Follows the page through Stytch's login ("Google", as `email`) back to the page; returns the callback URL used. */
  async function signIn(browser: FetchLike, email: string, start = authorizeUrl()): Promise<string> {
    const first = await browser(start);
    assert.equal(first.status, 303);
    const stytchStart = first.headers.get('Location')!;
    assert.ok(stytchStart.startsWith(`${project.baseUrl}/v1/public/oauth/google/start?`), stytchStart);
    const providerPage = new URL((await browser(stytchStart)).headers.get('Location')!, project.baseUrl);
    const back = await browser(providerPage.href, { method: 'POST', body: new URLSearchParams({ email }) });
    const callback = back.headers.get('Location')!;
    const landed = await browser(callback);
    assert.equal(landed.status, 303, await landed.clone().text());
    assert.equal(landed.headers.get('Location')?.split('?')[0], '/oauth/authorize');
    return callback;
  }

  it('a request without client_id is an error page naming it, not a redirect', async () => {
    const response = await newBrowser()(`${PAGE}?redirect_uri=${encodeURIComponent(REDIRECT)}`);
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('Location'), null);
    assert.match(await response.text(), /Required parameter is missing: client_id/);
  });

  it('code_challenge_method=plain is refused (Stytch takes S256 only)', async () => {
    const response = await newBrowser()(authorizeUrl({ code_challenge_method: 'plain' }));
    assert.equal(response.status, 400);
    assert.match(await response.text(), /code_challenge_method plain is not supported/);
  });

  it('Stytch\'s refusals (unknown client, unregistered redirect_uri) are error pages with its message; nothing is redirected', async () => {
    const browser = newBrowser();
    await signIn(browser, 'ada@example.com');
    const unknown = await browser(authorizeUrl({ client_id: 'connected-app-test-00000000-0000-0000-0000-000000000000' }));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('Location'), null);
    const text = await unknown.text();
    assert.match(text, /The Connected App could not be found\./);
    assert.match(text, /connected_app_not_found/);
    const foreign = await browser(authorizeUrl({ redirect_uri: 'https://evil.example/cb' }));
    assert.equal(foreign.status, 400);
    assert.equal(foreign.headers.get('Location'), null);
    assert.match(await foreign.text(), /not registered/);
  });

  it('SEC-26 the consent form needs its CSRF token; Allow then gives a code, and the same request later skips the page', async () => {
    const browser = newBrowser();
    await signIn(browser, 'grace@example.com');
    const page = await browser(authorizeUrl());
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Notes Desktop/);
    const [form] = parseForms(html, new URL(PAGE));
    assert.ok(form);

    const forged = formData(form, { csrf_token: 'x'.repeat(43) }, (b) => b.value === 'allow');
    const refused = await browser(form.action.href, { method: 'POST', body: forged });
    assert.equal(refused.status, 403);
    const undecided = await browser(form.action.href, { method: 'POST', body: formData(form, {}, (b) => b.value === 'allow').toString().replace('decision=allow', 'decision=maybe'), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(undecided.status, 400);
    assert.equal(stytch.connectedApps.oauth.consents.size > 0 && [...stytch.connectedApps.oauth.consents.keys()].some((k) => k.startsWith(stytch.login.users.get('grace@example.com')!.userId)), false, 'nothing reached Stytch');

    const allowed = await browser(form.action.href, { method: 'POST', body: formData(form, {}, (b) => b.value === 'allow') });
    assert.equal(allowed.status, 303);
    const target = new URL(allowed.headers.get('Location')!);
    assert.equal(`${target.origin}${target.pathname}`, REDIRECT);
    assert.ok(target.searchParams.get('code'));
    assert.equal(target.searchParams.get('state'), 'st-1');

    const again = await browser(authorizeUrl({ state: 'st-2' }));
    assert.equal(again.status, 303, 'consent is remembered by Stytch: no page');
    const second = new URL(again.headers.get('Location')!);
    assert.ok(second.searchParams.get('code'));
    assert.equal(second.searchParams.get('state'), 'st-2');
  });

  it('UP-02 the login callback is single use and bound to the browser that started it', async () => {
    const victim = newBrowser();
    const callback = await signIn(victim, 'linus@example.com');
    const replay = await victim(callback);
    assert.equal(replay.status, 400, 'a spent callback');
    // A login started in one browser and finished in another (login CSRF) is refused.
    const attacker = newBrowser();
    const first = await attacker(authorizeUrl());
    const providerPage = new URL((await attacker(first.headers.get('Location')!)).headers.get('Location')!, project.baseUrl);
    const stolen = (await attacker(providerPage.href, { method: 'POST', body: new URLSearchParams({ email: 'mallory@example.com' }) })).headers.get('Location')!;
    const elsewhere = await newBrowser()(stolen);
    assert.equal(elsewhere.status, 400);
    assert.match(await elsewhere.text(), /started in another browser/);
    assert.equal(elsewhere.headers.getSetCookie().some((c) => c.includes('portcullis_session=pcx_')), false, 'no session for the other browser');
  });

  it('Stytch unreachable: a 503 page, not a 500', async () => {
    const browser = newBrowser();
    await signIn(browser, 'barbara@example.com');
    stytchUp = false;
    try {
      const response = await browser(authorizeUrl());
      assert.equal(response.status, 503);
      assert.match(await response.text(), /not reachable/);
      const metadata = await portcullis.app.fetch(new Request(`${ORIGIN}/.well-known/oauth-authorization-server`));
      assert.equal(metadata.status, 503);
    } finally {
      stytchUp = true;
    }
  });

  it('scopes the person cannot grant (their Stytch roles lack a permission) are listed apart, and not granted', async () => {
    stytch.connectedApps.setPolicy({
      roles: [{ role_id: 'stytch_user', description: 'Every user', permissions: [{ resource_id: 'tasks', actions: ['read'] }] }],
      resources: [{ resource_id: 'tasks', description: 'Tasks', actions: ['read', 'delete'] }],
      scopes: [
        { scope: 'read:tasks', description: 'See your tasks', permissions: [{ resource_id: 'tasks', actions: ['read'] }] },
        { scope: 'purge:tasks', description: 'Delete every task', permissions: [{ resource_id: 'tasks', actions: ['delete'] }] },
      ],
    });
    try {
      const browser = newBrowser();
      await signIn(browser, 'edsger@example.com');
      const page = await browser(authorizeUrl({ scope: 'read:tasks purge:tasks' }));
      const html = await page.text();
      const ungrantable = /<ul class="scopes" id="ungrantable">([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '';
      assert.match(ungrantable, /Delete every task/);
      assert.doesNotMatch(ungrantable, /See your tasks/);
      const [form] = parseForms(html, new URL(PAGE));
      const allowed = await browser(form!.action.href, { method: 'POST', body: formData(form!, {}, (b) => b.value === 'allow') });
      assert.ok(new URL(allowed.headers.get('Location')!).searchParams.get('code'));
      const userId = stytch.login.users.get('edsger@example.com')!.userId;
      assert.deepEqual([...(stytch.connectedApps.oauth.consents.get(`${userId} ${clientId}`) ?? [])], ['read:tasks']);
    } finally {
      stytch.connectedApps.setPolicy(TASKS_POLICY);
    }
  });

  it('no Stytch token, code or secret in any log line', () => {
    const log = logger.lines.join('\n');
    assert.ok(logger.lines.length > 0);
    assert.ok(!log.includes(project.secret));
    assert.ok(!log.includes(stytch.login.publicToken));
    assert.doesNotMatch(log, /eyJ[A-Za-z0-9_-]+\./, 'no JWT');
    assert.doesNotMatch(log, /[?&](token|code)=(?!\[redacted\])/);
  });
});
