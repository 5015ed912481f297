/**
 * The Authorization URL page with Portcullis accounts (`signIn: local`): the person signs in with the
 * login form, this server vouches for them to Stytch with a Trusted Auth Token (a JWT Stytch checks
 * against our /jwks under its Trusted Auth Token profile), Stytch provisions its user just in time,
 * and consent continues as with Stytch's own login. In process, against the Stytch fixture.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { JWK } from 'jose';
import { resolveConfig } from '../../src/config/resolve.ts';
import { createUser } from '../../src/identity/users.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { createStytchProject, type StytchProject } from '../fixtures/stytch/project.ts';
import { createStytchProjectFixture, type StytchProjectFixture } from '../fixtures/stytch/stytch-project.ts';
import { browserFetch, cookieJar, formData, parseForms, type FetchLike } from '../helpers/oauth-flow.ts';
import { ORIGIN, PAGE, addTrustedAuthTokenProfile, pageAuthorizeUrl, registerPageClient } from './page-harness.ts';

const PROFILE = 'trusted-auth-token-profile-test-2f1c';
const USER = { username: 'alice@example.com', password: 'correct horse battery staple' };

describe('the Stytch Authorization URL page with Portcullis accounts attested to Stytch (Trusted Auth Tokens)', () => {
  const clock = new ManualClock(Date.now());
  let project: StytchProject;
  let stytch: StytchProjectFixture;
  let portcullis: Portcullis;
  let logger: ReturnType<typeof createMemoryLogger>;
  let clientId = '';
  let localUserId = '';

  before(async () => {
    project = createStytchProject('https://stytch.fixture.test');
    stytch = await createStytchProjectFixture({ project, clock, redirectUrls: [] });
    stytch.connectedApps.setAuthorizationUrl(PAGE);
    logger = createMemoryLogger();
    portcullis = await createPortcullis({
      config: resolveConfig({
        publicUrl: ORIGIN,
        database: ':memory:',
        authorizationServer: { issuer: project.baseUrl, verifier: 'stytch' },
        identityProvider: { kind: 'local', stytch: { projectId: project.projectId, secret: project.secret, apiUrl: `${project.baseUrl}/v1` } },
        stytchAuthorizationPage: { signIn: 'local', trustedAuthTokenProfileId: PROFILE },
      }),
      storage: await openSqliteStorage(':memory:'),
      clock,
      logger,
      fetch: async (input, init) => stytch.app.fetch(new Request(input, init)),
    });
    localUserId = (await createUser(portcullis.ctx.storage, USER, { now: clock.now(), random: portcullis.ctx.random })).id;
    await addTrustedAuthTokenProfile(stytch, portcullis, PROFILE);
    clientId = await registerPageClient(stytch, project);
  });

  const newBrowser = (): FetchLike => browserFetch(async (input, init) => portcullis.app.fetch(new Request(input, init)), cookieJar());
  const authorizeUrl = () => pageAuthorizeUrl(clientId, { state: 'st-9' });

  it('publishes the keys its Trusted Auth Tokens are signed with at /jwks, public parts only', async () => {
    const { keys } = (await (await portcullis.app.fetch(new Request(`${ORIGIN}/jwks`))).json()) as { keys: JWK[] };
    assert.equal(keys.length, 1);
    assert.equal(keys[0]!.d, undefined);
  });

  it('the login form (CSRF, wrong password), then consent for the just-in-time Stytch user, then a code', async () => {
    const browser = newBrowser();
    const loginPage = await browser(authorizeUrl());
    assert.equal(loginPage.status, 200);
    const [form] = parseForms(await loginPage.text(), new URL(PAGE));
    assert.ok(form);
    assert.equal(form.action.pathname, '/oauth/authorize/login');

    const forged = await newBrowser()(form.action.href, { method: 'POST', body: formData(form, { username: USER.username, password: USER.password }) });
    assert.equal(forged.status, 403, 'another browser has no login-CSRF cookie');
    const wrong = await browser(form.action.href, { method: 'POST', body: formData(form, { username: USER.username, password: 'not it' }) });
    assert.equal(wrong.status, 400);
    assert.match(await wrong.text(), /That username and password do not match\./);

    const signedIn = await browser(form.action.href, { method: 'POST', body: formData(form, { username: USER.username, password: USER.password }) });
    assert.equal(signedIn.status, 303);
    assert.equal(new URL(signedIn.headers.get('Location')!, ORIGIN).pathname, '/oauth/authorize');

    const consent = await browser(new URL(signedIn.headers.get('Location')!, ORIGIN).href);
    assert.equal(consent.status, 200);
    const html = await consent.text();
    assert.match(html, /Notes Desktop/);
    assert.match(html, /alice@example\.com/);
    const stytchUser = stytch.login.users.get(USER.username);
    assert.equal(stytchUser?.externalId, localUserId, 'Stytch provisioned its user for our account');

    const [consentForm] = parseForms(html, new URL(PAGE));
    const allowed = await browser(consentForm!.action.href, { method: 'POST', body: formData(consentForm!, {}, (b) => b.value === 'allow') });
    assert.equal(allowed.status, 303);
    const target = new URL(allowed.headers.get('Location')!);
    assert.ok(target.searchParams.get('code'));
    assert.equal(target.searchParams.get('state'), 'st-9');
    assert.ok([...stytch.connectedApps.oauth.consents.keys()].some((k) => k.startsWith(`${stytchUser!.userId} `)), 'consent recorded at Stytch for that user');
  });

  it('a wrong project secret is the operator\'s problem: a 502 page for the person, an error in the log', async () => {
    const log = createMemoryLogger();
    const misconfigured = await createPortcullis({
      config: resolveConfig({
        publicUrl: ORIGIN,
        database: ':memory:',
        authorizationServer: { issuer: project.baseUrl, verifier: 'stytch' },
        identityProvider: { kind: 'local', stytch: { projectId: project.projectId, secret: 'secret-test-not-the-right-one', apiUrl: `${project.baseUrl}/v1` } },
        stytchAuthorizationPage: { signIn: 'local', trustedAuthTokenProfileId: PROFILE },
      }),
      storage: await openSqliteStorage(':memory:'),
      clock,
      logger: log,
      fetch: async (input, init) => stytch.app.fetch(new Request(input, init)),
    });
    try {
      await createUser(misconfigured.ctx.storage, USER, { now: clock.now(), random: misconfigured.ctx.random });
      const browser = browserFetch(async (input, init) => misconfigured.app.fetch(new Request(input, init)), cookieJar());
      const [form] = parseForms(await (await browser(authorizeUrl())).text(), new URL(PAGE));
      const signedIn = await browser(form!.action.href, { method: 'POST', body: formData(form!, { username: USER.username, password: USER.password }) });
      const page = await browser(new URL(signedIn.headers.get('Location')!, ORIGIN).href);
      assert.equal(page.status, 502);
      assert.match(await page.text(), /refused this server&#39;s credentials/);
      assert.ok(log.records().some((r) => r['level'] === 'error' && String(r['msg']).includes('STYTCH_SECRET')));
    } finally {
      await misconfigured.close();
    }
  });

  it('no password, Trusted Auth Token or Stytch secret in any log line', () => {
    const log = logger.lines.join('\n');
    assert.ok(!log.includes(USER.password) && !log.includes('not it'));
    assert.ok(!log.includes(project.secret));
    assert.doesNotMatch(log, /eyJ[A-Za-z0-9_-]+\./);
  });
});
