/**
 * axe-core over every page of the real server in Chromium, in light and dark colour schemes: landing,
 * login (plain, with an error, for an application, for prompt=login and select_account), consent,
 * account (with applications, a notice and a form error), sign-out pages, error pages and the
 * dead-end page with its technical details open. WCAG 2.x A/AA and axe's best practices; no violation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { axeInBothSchemes } from '../helpers/accessibility.ts';
import { browserAvailable, CHROMIUM_PATH, launchBrowser } from '../helpers/browser.ts';
import { E2E_USER, startRealServer, type RealServer } from '../helpers/e2e.ts';
import { authorizationRequestUrl, createPkcePair, registerPublicClient } from '../helpers/oauth-flow.ts';
import { authorizationRequest, connectApp, signInIfAsked, startCallbackListener, type CallbackListener } from '../helpers/page-flows.ts';


let server: RealServer;
let callback: CallbackListener;
let browser: Browser | undefined;

before(async () => {
  server = await startRealServer({ serverName: 'Acme Notes' });
  callback = await startCallbackListener();
  if (browserAvailable()) browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await callback.close();
  await server.close();
});

/** The page's violations in light and dark, each labelled with what the page is. */
async function audit(page: Page, name: string): Promise<string[]> {
  return (await axeInBothSchemes(page)).map((v) => `${name}: ${v}`);
}

/** axe is injected as a script, which the pages' CSP rightly forbids: the audit's browser bypasses CSP. */
const auditContext = (): Promise<BrowserContext> => browser!.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });

describe('axe-core on every page, light and dark', { skip: browserAvailable() ? false : `chromium is not installed at ${CHROMIUM_PATH}` }, () => {
  it('issue 12 WCAG 2.2 AA: axe finds no violation on any page in either colour scheme', async () => {
    const { origin } = server;
    const { storage } = server.portcullis.ctx;
    const problems: string[] = [];
    const context = await auditContext();
    const page = await context.newPage();
    const check = async (name: string) => problems.push(...(await audit(page, name)));

    await page.goto(`${origin}/`);
    await check('landing');

    await page.goto(`${origin}/account`);
    await check('login for the account page');
    await page.fill('#username', E2E_USER.username);
    await page.fill('#password', 'wrong password');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    await check('login with an error');

    const other = await auditContext();
    const otherPage = await other.newPage();
    const client = await registerPublicClient(storage, { redirectUris: [callback.url], clientName: 'Notes Desktop', source: 'dcr' });
    await otherPage.goto(authorizationRequest(origin, client.clientId, callback.url, 'tasks:read tasks:write offline_access').url.href);
    problems.push(...(await audit(otherPage, 'login for an application')));
    await signInIfAsked(otherPage, E2E_USER.username, E2E_USER.password);
    assert.equal(new URL(otherPage.url()).pathname, '/consent');
    problems.push(...(await audit(otherPage, 'consent')));
    await other.close();

    await connectApp(context, { origin, storage }, callback.url, E2E_USER, { clientName: 'Team Board', scope: 'tasks:read', grantTypes: ['authorization_code'] });
    const app = await connectApp(context, { origin, storage }, callback.url, E2E_USER, { clientName: 'Notes Sync', source: 'dcr' });
    await page.goto(`${origin}/account`);
    await signInIfAsked(page, E2E_USER.username, E2E_USER.password);
    assert.equal(new URL(page.url()).pathname, '/account');
    await check('account with connected applications');
    await page.fill('#current-password', 'not it');
    await page.fill('#new-password', 'a new long password');
    await page.fill('#confirm-password', 'a new long password');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Change password' }).click()]);
    await check('account with a password error');
    await page.goto(`${origin}/account?done=revoked`);
    await check('account with a notice');

    await page.goto(authorizationRequest(origin, app.clientId, callback.url, 'tasks:read', { prompt: 'select_account' }).url.href);
    await check('login offering the signed-in account (prompt=select_account)');
    await page.goto(authorizationRequest(origin, app.clientId, callback.url, 'tasks:read', { prompt: 'login' }).url.href);
    await check('login again (prompt=login)');

    const pkce = createPkcePair();
    await page.goto(authorizationRequestUrl(origin, { response_type: 'code', client_id: 'gone-client', code_challenge: pkce.challenge, code_challenge_method: 'S256' }).href);
    await page.click('summary');
    await check('dead end: unknown client');
    await page.goto(authorizationRequestUrl(origin, { response_type: 'code', client_id: app.clientId, redirect_uri: 'http://127.0.0.1:9/x', code_challenge: pkce.challenge, code_challenge_method: 'S256' }).href);
    await page.click('summary');
    await check('dead end: redirect_uri not registered');
    await page.goto(authorizationRequestUrl(origin, { response_type: 'code' }).href);
    assert.match(await page.innerText('h1'), /not valid/);
    await page.click('summary');
    await check('error page (no client_id, technical details open)');
    await page.goto(`${origin}/login?request=not-a-request`);
    await check('error page: sign-in expired');

    await page.goto(`${origin}/logout`);
    await check('sign out');
    await Promise.all([page.waitForURL(/\/logout$/), page.click('button[type=submit]')]);
    await check('signed out');
    await context.close();

    assert.deepEqual(problems, [], problems.join('\n'));
  });

  it('the audit can fail: a low-contrast line and an unlabelled field are found, and dark mode is what axe sees', async () => {
    const context = await auditContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/`);
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(13, 17, 23)');
    await page.evaluate(() => {
      const p = document.createElement('p');
      p.textContent = 'barely visible';
      p.style.color = '#1c2128';
      document.querySelector('main')!.append(p, document.createElement('input'));
    });
    const found = (await audit(page, 'spoiled landing')).join('\n');
    assert.match(found, /dark \/: color-contrast/);
    assert.match(found, /light \/: label/);
    await context.close();
  });

  it('issue 12 a configured accent colour keeps its button legible: no violation with a light or a dark brand colour', async () => {
    const problems: string[] = [];
    for (const accentColor of ['#ffd33d', '#0b3d91']) {
      const branded = await startRealServer({ serverName: 'Acme Notes', accentColor });
      const context = await auditContext();
      const page = await context.newPage();
      await page.goto(`${branded.origin}/account`);
      await signInIfAsked(page, E2E_USER.username, E2E_USER.password);
      assert.equal(new URL(page.url()).pathname, '/account');
      problems.push(...(await audit(page, `account with accent ${accentColor}`)));
      await context.close();
      await branded.close();
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
