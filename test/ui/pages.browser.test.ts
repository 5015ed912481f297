import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { browserAvailable, launchBrowser } from '../helpers/browser.ts';
import {
  connectSnippets,
  pageSecurityHeaders,
  renderAccountPage,
  renderConsentPage,
  renderErrorPage,
  renderLandingPage,
  renderLoginPage,
  renderReconnectPage,
  type Branding,
} from '../../src/ui/index.ts';

const SHOTS = '/tmp/portcullis-shots';
const branding: Branding = { serverName: 'Acme Notes MCP', logoUrl: '/logo.svg' };
const green: Branding = { serverName: 'Acme Notes MCP', accentColor: '#0f7b3f' };
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2563eb"/><path d="M8 9h16M8 15h16M8 21h16M11 7v18M16 7v18M21 7v18" stroke="#fff" stroke-width="2"/></svg>`;

const consentView = (b: Branding) => ({
  branding: b, action: '/consent', csrfToken: 'tok', hidden: { request_id: 'r1' }, user: { username: 'alice@example.com' },
  client: {
    name: `<script>alert('pwned')</script> Totally Official Claude Desktop Connector for Google Drive Enterprise Accounts (Verified)`,
    clientId: 'https://claude-connector.example/oauth/client.json', redirectHost: '127.0.0.1:33418', allRedirectsLoopback: true,
  },
  scopes: [
    { name: 'notes:read', description: 'Read your notes and notebooks' },
    { name: 'notes:write', description: 'Create, edit and delete notes' },
    { name: 'offline_access', description: 'Stay connected when you are not using it' },
  ],
  resource: 'https://notes.acme.example/mcp',
});

const pages: Record<string, (b: Branding) => string> = {
  login: (b) => renderLoginPage({ branding: b, action: '/login', csrfToken: 'tok', hidden: { request_id: 'r1' }, clientName: 'Claude Desktop' }),
  'login-error': (b) => renderLoginPage({ branding: b, action: '/login', csrfToken: 'tok', hidden: {}, username: 'alice', error: 'Wrong username or password.' }),
  consent: (b) => renderConsentPage(consentView(b)),
  'login-select-account': (b) =>
    renderLoginPage({
      branding: b, action: '/login', csrfToken: 'tok', hidden: { request: 'r1' }, clientName: 'Claude Desktop',
      current: { username: 'alice@example.com', signOut: { csrfToken: 'out', hidden: { request: 'r1' } }, continueAs: { csrfToken: 'sel', hidden: { request: 'r1' } } },
    }),
  landing: (b) => renderLandingPage({ branding: b, mcpUrl: 'https://notes.acme.example/mcp', ready: true, connect: connectSnippets('https://notes.acme.example/mcp', b.serverName), https: true, accountUrl: '/account' }),
  account: (b) =>
    renderAccountPage({
      branding: b, username: 'alice@example.com', notice: 'The application\'s access was revoked.', minPasswordLength: 10, accessTokenMinutes: 60,
      apps: [{
        grantId: 'g1', name: 'Totally Official Claude Desktop Connector for Google Drive Enterprise Accounts', trust: { kind: 'self' },
        redirectHosts: ['http://127.0.0.1:33418', 'cursor://anysphere.cursor-retrieval'], scopes: consentView(b).scopes,
        connectedAt: Date.UTC(2026, 11, 1, 9, 30), lastUsedAt: Date.UTC(2026, 11, 4, 14, 5), refreshableUntil: Date.UTC(2027, 0, 3), revokeCsrfToken: 'rv',
      }],
      signOut: { csrfToken: 'out', hidden: {} }, signOutEverywhere: { csrfToken: 'all' }, password: { csrfToken: 'pw', error: 'Your current password is not right. Nothing was changed.' },
    }),
  reconnect: (b) =>
    renderReconnectPage({
      branding: b, reason: 'unknown_client', message: 'This application is not registered with this server.', mcpUrl: 'https://notes.acme.example/mcp',
      technical: { error: 'invalid_client', clientId: 'c_8f2a' + 'x'.repeat(90), registrationEndpoint: 'https://notes.acme.example/register' },
    }),
  error: (b) => renderErrorPage({ branding: b, title: 'This sign-in link is not valid', message: 'The application asked to send you back to an address it has not registered, so we stopped here to protect your account.', detail: 'invalid redirect_uri for client_id c_8f2a: http://evil.example/cb' }),
};

let server: Server;
let base = '';
let browser: Browser | undefined;

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    if (url.pathname === '/logo.svg') return void res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(LOGO);
    if (req.method === 'POST' && url.pathname === '/consent') {
      // What the real server does after consent: 303 to the client's loopback redirect URI (another origin).
      return void res.writeHead(303, { location: `http://localhost:${(server.address() as AddressInfo).port}/callback?code=x` }).end();
    }
    if (url.pathname === '/callback') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('client got the code');
    const render = pages[url.pathname.slice(1)];
    if (!render) return void res.writeHead(404).end();
    const b = url.searchParams.get('accent') ? green : branding;
    const headers: Record<string, string> = { ...pageSecurityHeaders(b), 'content-type': 'text/html; charset=utf-8' };
    // Control case proving the CSP comment right: form-action 'self' blocks the hand-back.
    if (url.searchParams.has('formActionSelf')) headers['Content-Security-Policy'] += "; form-action 'self'";
    res.writeHead(200, headers).end(render(b));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (browserAvailable()) browser = await launchBrowser();
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => server.close(r));
});

async function open(path: string, opts: { width?: number; dark?: boolean } = {}) {
  const context = await browser!.newContext({ viewport: { width: opts.width ?? 1280, height: 900 }, colorScheme: opts.dark ? 'dark' : 'light' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(base + path);
  return { page, problems, close: () => context.close() };
}

const focusedId = (page: Page) => page.evaluate(() => {
  const el = document.activeElement as HTMLElement | null;
  return el?.id || el?.getAttribute('value') || el?.textContent?.trim() || '';
});

test('SEC-23 pages load with no CSP violations and the hashed stylesheet applies', async (t) => {
  if (!browser) return t.skip('chromium not installed');
  for (const name of Object.keys(pages)) {
    for (const q of ['', '?accent=1']) {
      const { page, problems, close } = await open(`/${name}${q}`);
      assert.deepEqual(problems, [], `${name}${q}`);
      const card = await page.$eval('main', (e) => getComputedStyle(e).borderRadius);
      assert.equal(card, '12px', 'stylesheet applied');
      await close();
    }
  }
});

test('accent colour fills the primary button, with the default otherwise', async (t) => {
  if (!browser) return t.skip('chromium not installed');
  for (const [q, want] of [['?accent=1', 'rgb(15, 123, 63)'], ['', 'rgb(37, 99, 235)']] as const) {
    const { page, close } = await open(`/login${q}`);
    assert.equal(await page.$eval('.btn-primary', (e) => getComputedStyle(e).backgroundColor), want);
    assert.equal(await page.$eval('.btn-primary', (e) => getComputedStyle(e).color), 'rgb(255, 255, 255)');
    await close();
  }
});

test('keyboard only: Tab reaches username, password, submit in order; focus ring visible', async (t) => {
  if (!browser) return t.skip('chromium not installed');
  const { page, close } = await open('/login');
  const order: string[] = [];
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('Tab');
    order.push(await focusedId(page));
  }
  assert.deepEqual(order, ['username', 'password', 'Sign in']);
  assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle), 'solid');
  assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineWidth), '3px');
  await close();
});

test('AS-17 keyboard only: consent Deny and Allow are reachable, and Allow submits the 303 hand-back to the client', async (t) => {
  if (!browser) return t.skip('chromium not installed');
  const { page, problems, close } = await open('/consent');
  const seen: string[] = [];
  for (let i = 0; i < 6 && !seen.includes('allow'); i++) {
    await page.keyboard.press('Tab');
    seen.push(await focusedId(page));
  }
  assert.deepEqual(seen.slice(-2), ['deny', 'allow']);
  await Promise.all([page.waitForURL(/\/callback\?code=x$/), page.keyboard.press('Enter')]);
  assert.equal(await page.textContent('body'), 'client got the code');
  assert.deepEqual(problems, []);
  await close();
});

test("SEC-21 form-action 'self' would have blocked the redirect to the client (why the CSP omits it)", async (t) => {
  if (!browser) return t.skip('chromium not installed');
  const { page, problems, close } = await open('/consent?formActionSelf=1');
  await page.click('button[value=allow]');
  await page.waitForTimeout(500);
  assert.ok(!page.url().includes('/callback'), page.url());
  assert.ok(problems.some((p) => /form-action/.test(p)), problems.join('\n'));
  await close();
});

test('dark mode via prefers-color-scheme changes the background and text', async (t) => {
  if (!browser) return t.skip('chromium not installed');
  const colors = async (dark: boolean) => {
    const { page, close } = await open('/consent', { dark });
    const c = await page.evaluate(() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]);
    await close();
    return c;
  };
  const [light, dark] = [await colors(false), await colors(true)];
  assert.deepEqual(light, ['rgb(243, 244, 246)', 'rgb(31, 35, 40)']);
  assert.deepEqual(dark, ['rgb(13, 17, 23)', 'rgb(230, 237, 243)']);
});

test('responsive down to 320px: no horizontal scrolling', async (t) => {
  if (!browser) return t.skip('chromium not installed');
  for (const name of Object.keys(pages)) {
    const { page, close } = await open(`/${name}`, { width: 320 });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 320), name);
    await close();
  }
});

test('screenshots: every page, light and dark, mobile and desktop', async (t) => {
  if (!browser) return t.skip('chromium not installed');
  for (const name of Object.keys(pages)) {
    for (const dark of [false, true]) {
      for (const width of [375, 1280]) {
        const { page, close } = await open(`/${name}`, { width, dark });
        await page.screenshot({ path: `${SHOTS}/${name}-${dark ? 'dark' : 'light'}-${width}.png`, fullPage: true });
        await close();
      }
    }
  }
});
