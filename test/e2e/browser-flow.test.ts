/**
 * The login and consent pages in a real browser (Debian's chromium through playwright-core), against
 * the real server on a loopback socket, handing the code to a real loopback callback server as a
 * native MCP client would (RFC 8252 §7.3). Skipped, saying so, when chromium is not installed.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import type { Browser, Page } from 'playwright-core';
import { resolveConfig } from '../../src/config/resolve.ts';
import { createUser } from '../../src/identity/users.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { hashSecret } from '../../src/util/crypto.ts';
import { browserAvailable, CHROMIUM_PATH, launchBrowser } from '../helpers/browser.ts';
import { authorizationRequestUrl, createPkcePair, registerPublicClient } from '../helpers/oauth-flow.ts';

const SHOTS = '/tmp/portcullis-shots';
const USERNAME = 'alice';
const PASSWORD = 'correct horse battery staple';

let server: ServerType;
let portcullis: Portcullis;
let logger: ReturnType<typeof createMemoryLogger>;
let origin = '';
let callbackServer: Server;
let callbackUrl = '';
const callbacks: URL[] = [];
let clientId = '';
let browser: Browser | undefined;

const listening = (s: { address(): unknown }) => (s.address() as AddressInfo).port;

before(async () => {
  // Listen first, then build the app: its issuer must name the port the socket got.
  let handle: (request: Request, env: unknown) => Response | Promise<Response> = () => new Response('starting', { status: 503 });
  server = serve({ fetch: (request, env) => handle(request, env), port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  origin = `http://127.0.0.1:${listening(server)}`;
  logger = createMemoryLogger();
  portcullis = await createPortcullis({ config: resolveConfig({ publicUrl: origin, database: ':memory:' }), storage: await openSqliteStorage(':memory:'), logger });
  handle = (request, env) => portcullis.app.fetch(request, env);

  // The MCP client's loopback redirect listener.
  callbackServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') return void res.writeHead(404).end(); // e.g. the browser's /favicon.ico
    callbacks.push(url);
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('Signed in. You can close this window.');
  });
  await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
  callbackUrl = `http://127.0.0.1:${listening(callbackServer)}/callback`;

  const { ctx } = portcullis;
  await createUser(ctx.storage, { username: USERNAME, password: PASSWORD }, { now: ctx.clock.now(), random: ctx.random });
  clientId = (await registerPublicClient(ctx.storage, { redirectUris: [callbackUrl], clientName: 'Notes Desktop' })).clientId;

  if (browserAvailable()) browser = await launchBrowser();
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => callbackServer.close(resolve));
  await new Promise((resolve) => server.close(resolve));
  await portcullis.close();
});

/** CSP violations and script errors show up as console errors; none are expected (the browser's own favicon probe aside). */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.location().url.endsWith('/favicon.ico')) return;
    if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) problems.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return problems;
}

describe('browser flow', { skip: browserAvailable() ? false : `chromium is not installed at ${CHROMIUM_PATH} (apt-get install -y chromium)` }, () => {
  it('AS-26 login and consent in Chromium hand code, state and iss to the loopback callback', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchProblems(page);
    const pkce = createPkcePair();
    const state = 'st-' + Date.now();
    const url = authorizationRequestUrl(origin, {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: callbackUrl,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      state,
      scope: 'tasks:read tasks:write offline_access',
      resource: `${origin}/mcp`,
    });

    await page.goto(url.href);
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.match((await page.textContent('h1')) ?? '', /Sign in/);
    await page.fill('#username', USERNAME);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(/\/consent\?/), page.click('button[type=submit]')]);

    // AS-17 / AS-15: where the code goes (scheme and host, HARD-5), and the loopback warning, are on the page.
    assert.equal(await page.textContent('#redirect-host'), `http://${new URL(callbackUrl).host}`);
    assert.match((await page.textContent('main')) ?? '', /This application runs on your computer/);
    assert.match((await page.textContent('main')) ?? '', /Stay connected when you are not using it/);
    await page.screenshot({ path: `${SHOTS}/flow-consent.png`, fullPage: true });

    await Promise.all([page.waitForURL((u) => u.href.startsWith(callbackUrl)), page.click('button[value=allow]')]);
    assert.equal(await page.textContent('body'), 'Signed in. You can close this window.');

    const received = callbacks.at(-1)!;
    const code = received.searchParams.get('code');
    assert.match(code ?? '', /^pcc_/);
    assert.equal(received.searchParams.get('state'), state);
    assert.equal(received.searchParams.get('iss'), origin);
    const redeemed = await portcullis.ctx.storage.authorizationCodes.redeem(hashSecret(code!), portcullis.ctx.clock.now(), portcullis.ctx.clock.now() + 60_000);
    assert.equal(redeemed.status, 'ok', 'the code the browser carried is the one the server stored');
    assert.deepEqual(problems, [], 'no CSP violation or script error');

    // The session cookie (SameSite=Lax) rides the next top-level navigation from the client: with
    // consent remembered the browser goes straight back to the callback.
    const again = new URL(url);
    again.searchParams.set('state', 'second');
    await Promise.all([page.waitForURL((u) => u.href.startsWith(callbackUrl)), page.goto(again.href)]);
    assert.equal(callbacks.at(-1)!.searchParams.get('state'), 'second');
    assert.ok(callbacks.at(-1)!.searchParams.get('code'));
    await context.close();
  });

  it('SEC-06 an unregistered redirect_uri stays on the error page in the browser', async () => {
    const context = await browser!.newContext();
    const page = await context.newPage();
    const problems = watchProblems(page);
    const url = authorizationRequestUrl(origin, {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'https://evil.example/cb',
      code_challenge: createPkcePair().challenge,
      code_challenge_method: 'S256',
    });
    const response = await page.goto(url.href);
    assert.equal(response?.status(), 400);
    assert.equal(new URL(page.url()).origin, origin, 'not redirected');
    assert.match((await page.textContent('h1')) ?? '', /not valid/);
    // A 400 document is itself logged as a console error by Chromium; CSP problems are not expected.
    assert.deepEqual(problems.filter((p) => /Content.Security.Policy/i.test(p)), []);
    await context.close();
  });

  it('a wrong password shows the generic message in the page, with no CSP violation', async () => {
    const context = await browser!.newContext();
    const page = await context.newPage();
    const problems = watchProblems(page);
    await page.goto(
      authorizationRequestUrl(origin, {
        response_type: 'code',
        client_id: clientId,
        code_challenge: createPkcePair().challenge,
        code_challenge_method: 'S256',
      }).href,
    );
    await page.fill('#username', USERNAME);
    await page.fill('#password', 'not the password');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    assert.match((await page.textContent('[role=alert]')) ?? '', /That username and password do not match\./);
    assert.equal(await page.inputValue('#username'), USERNAME);
    assert.deepEqual(problems.filter((p) => /Content.Security.Policy/i.test(p)), []);
    await context.close();
  });
});
