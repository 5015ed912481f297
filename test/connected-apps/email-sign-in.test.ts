/**
 * The Authorization URL page with nothing but the three seed-1 variables: people sign in with a
 * one-time code Stytch e-mails them (the fixture's inbox plays the mailbox), then consent. In process,
 * against the Stytch fixture.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadConfigInput } from '../../src/config/env.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { EMAIL_CODES_PER_MINUTE } from '../../src/connected-apps/email-sign-in.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { createStytchProject, type StytchProject } from '../fixtures/stytch/project.ts';
import { createStytchProjectFixture, type StytchProjectFixture } from '../fixtures/stytch/stytch-project.ts';
import { browserFetch, cookieJar, formData, parseForms, type FetchLike, type HtmlForm } from '../helpers/oauth-flow.ts';
import { ORIGIN, PAGE, pageAuthorizeUrl, registerPageClient } from './page-harness.ts';

const EMAIL = 'barbara@example.com';

describe('the Stytch Authorization URL page with email one-time codes (STYTCH_PROJECT_ID, STYTCH_SECRET, STYTCH_DOMAIN only)', () => {
  const clock = new ManualClock(Date.now());
  let project: StytchProject;
  let stytch: StytchProjectFixture;
  let portcullis: Portcullis;
  let logger: ReturnType<typeof createMemoryLogger>;
  let clientId = '';

  before(async () => {
    project = createStytchProject('https://stytch.fixture.test');
    stytch = await createStytchProjectFixture({ project, clock, redirectUrls: [] });
    stytch.connectedApps.setAuthorizationUrl(PAGE);
    logger = createMemoryLogger();
    const input = loadConfigInput({ PORTCULLIS_PUBLIC_URL: ORIGIN, PORTCULLIS_DATABASE: ':memory:', STYTCH_PROJECT_ID: project.projectId, STYTCH_SECRET: project.secret, STYTCH_DOMAIN: project.baseUrl }, undefined);
    // The fixture answers at the project domain; real Stytch's backend API is test.stytch.com / api.stytch.com.
    input.identityProvider!.stytch!.apiUrl = `${project.baseUrl}/v1`;
    portcullis = await createPortcullis({ config: resolveConfig(input), storage: await openSqliteStorage(':memory:'), clock, logger, fetch: async (i, init) => stytch.app.fetch(new Request(i, init)) });
    clientId = await registerPageClient(stytch, project);
  });

  const newBrowser = (): FetchLike => browserFetch(async (input, init) => portcullis.app.fetch(new Request(input, init)), cookieJar());
  const authorizeUrl = () => pageAuthorizeUrl(clientId, { state: 'st-3' });
  const post = (browser: FetchLike, form: HtmlForm, fill: Record<string, string>) => browser(form.action.href, { method: 'POST', body: formData(form, fill) });
  const formOf = async (response: Response): Promise<HtmlForm> => parseForms(await response.text(), new URL(PAGE))[0]!;

  it('asks for an address, then the code Stytch sent; a wrong code or a form aimed at another code changes nothing; the right one signs in and consent follows', async () => {
    const browser = newBrowser();
    const emailForm = await formOf(await browser(authorizeUrl()));
    assert.equal(emailForm.action.pathname, '/oauth/authorize/email');
    assert.equal((await post(browser, emailForm, { email: 'not an address' })).status, 400);

    const codeResponse = await post(browser, emailForm, { email: EMAIL });
    assert.equal(codeResponse.status, 200);
    const codeForm = await formOf(codeResponse);
    assert.equal(codeForm.action.pathname, '/oauth/authorize/email/code');
    const code = stytch.login.inbox.get(EMAIL);
    assert.match(code ?? '', /^\d{6}$/, 'Stytch emailed a code');

    const wrong = await post(browser, codeForm, { code: code === '000000' ? '111111' : '000000' });
    assert.equal(wrong.status, 400);
    assert.match(await wrong.text(), /That code is not right/);
    const retarget = await post(browser, codeForm, { code: code!, method: 'email-test-00000000-0000-0000-0000-000000000000' });
    assert.equal(retarget.status, 403, 'the form is bound to the method id Stytch gave');
    const elsewhere = await post(newBrowser(), codeForm, { code: code! });
    assert.equal(elsewhere.status, 403, 'and to this browser');

    const signedIn = await post(browser, codeForm, { code: code! });
    assert.equal(signedIn.status, 303, await signedIn.clone().text());
    const consent = await browser(new URL(signedIn.headers.get('Location')!, ORIGIN).href);
    assert.equal(consent.status, 200);
    const html = await consent.text();
    assert.match(html, /Notes Desktop/);
    assert.match(html, /barbara@example\.com/);
    const [form] = parseForms(html, new URL(PAGE));
    const allowed = await browser(form!.action.href, { method: 'POST', body: formData(form!, {}, (b) => b.value === 'allow') });
    const target = new URL(allowed.headers.get('Location')!);
    assert.ok(target.searchParams.get('code'));
    assert.equal(target.searchParams.get('state'), 'st-3');
    const stytchUser = stytch.login.users.get(EMAIL)!.userId;
    assert.ok(stytch.connectedApps.oauth.consents.has(`${stytchUser} ${clientId}`), 'consent recorded at Stytch for that user');
  });

  it('one address may ask for a few codes a minute (each is an email sent), then 429 with Retry-After', async () => {
    const browser = newBrowser();
    const emailForm = await formOf(await browser(authorizeUrl()));
    clock.advance(60_000); // a full bucket for this (in-process: unknown) address
    const statuses: number[] = [];
    for (let i = 0; i < EMAIL_CODES_PER_MINUTE; i++) statuses.push((await post(browser, emailForm, { email: `flood-${i}@example.com` })).status);
    assert.deepEqual(statuses, Array(EMAIL_CODES_PER_MINUTE).fill(200));
    const refused = await post(browser, emailForm, { email: 'one-more@example.com' });
    assert.equal(refused.status, 429);
    assert.ok(refused.headers.get('Retry-After'));
    assert.equal(stytch.login.inbox.has('one-more@example.com'), false, 'no email was sent');
  });

  it('the code is in no log line', () => {
    const code = stytch.login.inbox.get(EMAIL)!;
    assert.ok(!logger.lines.join('\n').includes(code));
    assert.ok(logger.records().some((r) => r['msg'] === 'login.failed' && r['identity_provider'] === 'stytch-email'));
  });
});
