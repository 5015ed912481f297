/**
 * Seed 1 whole, end to end: Stytch Connected Apps as the authorization server (the Stytch fixture,
 * over https on loopback), Portcullis in resource-only mode serving the MCP endpoint and the
 * Authorization URL page, the official MCP SDK client, and Chromium driving the real pages.
 *
 * The client discovers Stytch through our Protected Resource Metadata, registers there (DCR), and is
 * sent to our page; the person signs in at Stytch, with the code it emails (the fixture's inbox) or at
 * its OAuth login ("Google", the fixture's page), consents on our page (built from Start OAuth
 * Authorization), and Stytch's OAuth Authorize hands the code to the client's loopback redirect; the
 * client gets its token at Stytch's token endpoint and calls tools here. A second client is denied
 * and hears `access_denied`.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import type { Browser, Page } from 'playwright-core';
import { Agent, fetch as undiciFetch } from 'undici';
import { resolveConfig } from '../../src/config/resolve.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { ManualClock } from '../../src/util/clock.ts';
import type { StytchRbacPolicy } from '../fixtures/stytch/connected-apps.ts';
import { createTestCertificate, listenHttps, type HttpsListener, type TestCertificate } from '../fixtures/stytch/https.ts';
import { createStytchProject, type StytchProject } from '../fixtures/stytch/project.ts';
import { createStytchProjectFixture, type StytchProjectFixture } from '../fixtures/stytch/stytch-project.ts';
import { browserAvailable, CHROMIUM_PATH, launchBrowser } from '../helpers/browser.ts';
import { InMemoryOAuthProvider } from '../helpers/e2e.ts';

/** The project's RBAC policy: Portcullis's built-in task tools' scopes as Stytch custom scopes. */
const POLICY: StytchRbacPolicy = {
  roles: [{ role_id: 'stytch_user', description: 'Every user', permissions: [{ resource_id: 'tasks', actions: ['read', 'write'] }] }],
  resources: [{ resource_id: 'tasks', description: 'Tasks', actions: ['read', 'write'] }],
  scopes: [
    { scope: 'tasks:read', description: 'See your task list', permissions: [{ resource_id: 'tasks', actions: ['read'] }] },
    { scope: 'tasks:write', description: 'Add, complete and delete tasks', permissions: [{ resource_id: 'tasks', actions: ['write'] }] },
  ],
};
const EMAIL = 'ada@example.com';

const portOf = (s: { address(): unknown }) => (s.address() as AddressInfo).port;

/** The two ways to sign in at Stytch: a code it emails (the default of the three seed-1 variables), and its OAuth login. */
for (const signIn of ['stytch-email', 'stytch-oauth'] as const) describe(`Seed 1 end to end (${signIn} sign-in): Stytch Connected Apps, our Authorization URL page in Chromium, the MCP SDK client`, { skip: browserAvailable() ? false : `chromium is not installed at ${CHROMIUM_PATH}` }, () => {
  let certificate: TestCertificate;
  let stytchListener: HttpsListener;
  let project: StytchProject;
  let stytch: StytchProjectFixture;
  let server: Server;
  let portcullis: Portcullis;
  let logger: ReturnType<typeof createMemoryLogger>;
  let origin = '';
  let callbackServer: Server;
  let redirectUrl = '';
  const callbacks: URL[] = [];
  let browser: Browser;
  /** fetch trusting the fixture's test certificate: what Portcullis and the MCP client use. */
  let trustingFetch: typeof fetch;
  const redirectUrls: string[] = [];
  /** One clock for Stytch and Portcullis, so that the access token can expire. */
  const clock = new ManualClock(Date.now());
  /** The client that was allowed, for the refresh test. */
  let allowedClient: InMemoryOAuthProvider | undefined;

  before(async () => {
    certificate = await createTestCertificate();
    const agent = new Agent({ connect: { ca: certificate.cert } });
    trustingFetch = ((input: string | URL | Request, init?: RequestInit) => undiciFetch(input as string, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch;
    stytchListener = await listenHttps((request) => stytch.app.fetch(request), certificate);
    project = createStytchProject(stytchListener.origin);
    stytch = await createStytchProjectFixture({ project, clock, policy: POLICY, redirectUrls });

    // Portcullis: bound first, so its URL is known before anything is configured.
    server = createAdaptorServer({ fetch: (request, env) => (portcullis ? portcullis.app.fetch(request, env) : new Response('starting', { status: 503 })) }) as Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${portOf(server)}`;
    // The two dashboard steps: the Authorization URL, and the login's redirect URL.
    stytch.connectedApps.setAuthorizationUrl(`${origin}/oauth/authorize`);
    redirectUrls.push(`${origin}/oauth/authorize/callback?tx={}`);
    logger = createMemoryLogger();
    portcullis = await createPortcullis({
      config: resolveConfig({
        publicUrl: origin,
        database: ':memory:',
        authorizationServer: { issuer: project.baseUrl, verifier: 'stytch' },
        // Least privilege, so that the first grant is read-only and the client steps up (RS-12).
        defaultScopes: ['tasks:read'],
        identityProvider: {
          kind: 'local',
          stytch: { projectId: project.projectId, secret: project.secret, apiUrl: `${project.baseUrl}/v1`, ...(signIn === 'stytch-oauth' ? { publicToken: stytch.login.publicToken } : {}) },
        },
      }),
      storage: await openSqliteStorage(':memory:'),
      clock,
      logger,
      fetch: trustingFetch,
    });

    callbackServer = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== '/callback') return void res.writeHead(404).end();
      callbacks.push(url);
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('Done. You can close this window.');
    });
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
    redirectUrl = `http://127.0.0.1:${portOf(callbackServer)}/callback`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => callbackServer?.close(resolve));
    await portcullis?.close({ drain: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }) });
    await stytchListener?.close();
    await certificate?.dispose();
  });

  /** Connects until the SDK asks to open the authorization URL; returns it. */
  async function discoverAndRegister(provider: InMemoryOAuthProvider): Promise<URL> {
    const transport = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider, fetch: trustingFetch });
    const client = new Client({ name: 'stytch-e2e', version: '1' });
    await assert.rejects(client.connect(transport), (e: unknown) => e instanceof UnauthorizedError);
    const url = provider.authorizationUrls.at(-1);
    assert.ok(url, 'the SDK asked to open an authorization URL');
    return url;
  }

  /** From our page, not signed in, to our consent page: through Stytch's OAuth login, or with the code Stytch emails. */
  async function signInAtStytch(page: Page): Promise<void> {
    const backOnOurPage = (u: URL) => u.href.startsWith(`${origin}/oauth/authorize?`);
    if (signIn === 'stytch-oauth') {
      assert.equal(new URL(page.url()).origin, project.baseUrl, 'at Stytch\'s OAuth login, then its provider\'s page');
      await page.fill('input[name=email]', EMAIL);
      await Promise.all([page.waitForURL(backOnOurPage), page.click('button[type=submit]')]);
      return;
    }
    assert.equal(new URL(page.url()).origin, origin, 'our own sign-in page');
    await page.fill('#email', EMAIL);
    await Promise.all([page.waitForURL(`${origin}/oauth/authorize/email`), page.click('button[type=submit]')]);
    assert.match((await page.textContent('main')) ?? '', /Enter the 6-digit code we sent to ada@example\.com/);
    await page.fill('#code', stytch.login.inbox.get(EMAIL)!);
    await Promise.all([page.waitForURL(backOnOurPage), page.click('button[type=submit]')]);
  }

  async function openPage(): Promise<{ page: Page; problems: string[]; close: () => Promise<void> }> {
    // The fixture's certificate is made at test time; Chromium is told to accept it for the fixture's pages.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) problems.push(m.text());
    });
    return { page, problems, close: () => context.close() };
  }

  it('the client registers at Stytch, signs in and consents on our page, gets a Stytch token and calls tools here', async () => {
    const provider = new InMemoryOAuthProvider({ redirectUrl, clientName: 'Notes Desktop' });
    const authorizationUrl = await discoverAndRegister(provider);
    assert.equal(`${authorizationUrl.origin}${authorizationUrl.pathname}`, `${origin}/oauth/authorize`, 'Stytch metadata sends the client to our page');
    assert.match(String(provider.client?.client_id), /^connected-app-test-/, 'registered at Stytch');

    const { page, problems, close } = await openPage();
    await page.goto(authorizationUrl.href);
    await signInAtStytch(page);

    // Our consent page, built from Start OAuth Authorization.
    assert.match((await page.textContent('h1')) ?? '', /Notes Desktop/);
    const main = (await page.textContent('main')) ?? '';
    assert.match(main, /See your task list/);
    assert.match(main, new RegExp(EMAIL.replace('.', '\\.')), 'signed in as the Stytch user');
    assert.equal(await page.textContent('#redirect-host'), `http://${new URL(redirectUrl).host}`);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(redirectUrl)), page.click('button[value=allow]')]);
    assert.deepEqual(problems, [], 'no CSP violation');
    await close();

    const received = callbacks.at(-1)!;
    assert.equal(received.searchParams.get('state'), provider.expectedState);
    const code = received.searchParams.get('code');
    assert.ok(code, `a code, not ${received.search}`);

    const transport = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider, fetch: trustingFetch });
    await transport.finishAuth(code);
    assert.equal(provider.tokenSet?.token_type.toLowerCase(), 'bearer');
    const client = new Client({ name: 'stytch-e2e', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider, fetch: trustingFetch }));
    try {
      const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as Record<string, unknown>;
      const stytchUser = stytch.login.users.get(EMAIL)!.userId;
      assert.equal(me['subject'], stytchUser, 'the tool runs as the Stytch user');
      assert.equal(me['clientId'], provider.client?.client_id);
      assert.deepEqual(me['scopes'], ['tasks:read', 'offline_access'], 'what the client asked for and the person granted');
      assert.ok(provider.tokenSet?.refresh_token, 'offline_access granted: Stytch issued a refresh token');
      assert.deepEqual((await client.callTool({ name: 'list_tasks', arguments: {} })).structuredContent, { tasks: [] });
      // A tool needing more: 403 insufficient_scope, and the SDK starts a step-up at our page again.
      const urls = provider.authorizationUrls.length;
      await assert.rejects(client.callTool({ name: 'create_task', arguments: { title: 'Water the plants' } }), (e: unknown) => e instanceof UnauthorizedError);
      assert.equal(provider.authorizationUrls.length, urls + 1);
      assert.ok(provider.authorizationUrls.at(-1)!.searchParams.get('scope')?.split(' ').includes('tasks:write'));
    } finally {
      await client.close();
    }

    // No Stytch token, session or secret in any log line.
    const log = logger.lines.join('\n');
    for (const secret of [project.secret, provider.tokenSet!.access_token, code]) assert.ok(!log.includes(secret), 'a credential reached the log');
    assert.ok(logger.records().some((r) => r['msg'] === 'consent.granted' && r['client_id'] === provider.client?.client_id));
    allowedClient = provider;
  });

  it('keeps working after the Stytch access token expires: the SDK refreshes at Stytch\'s token endpoint, no new sign-in', async () => {
    const provider = allowedClient!;
    const before = { access: provider.tokenSet!.access_token, urls: provider.authorizationUrls.length };
    const tokenCalls = () => stytch.connectedApps.requests.filter((r) => r === 'POST /v1/oauth2/token').length;
    const calls = tokenCalls();
    clock.advance(3601 * 1000);
    const client = new Client({ name: 'stytch-e2e', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider, fetch: trustingFetch }));
    try {
      const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as Record<string, unknown>;
      assert.equal(me['subject'], stytch.login.users.get(EMAIL)!.userId);
    } finally {
      await client.close();
    }
    assert.equal(tokenCalls(), calls + 1, 'one refresh at Stytch');
    assert.notEqual(provider.tokenSet!.access_token, before.access);
    assert.equal(provider.authorizationUrls.length, before.urls, 'no new authorization');
  });

  it('RS-12 step-up: the wider scope is consented on our page again, and the tool that needed it runs', async () => {
    const provider = allowedClient!;
    const stepUp = provider.authorizationUrls.at(-1)!;
    const { page, close } = await openPage();
    await page.goto(stepUp.href);
    await signInAtStytch(page);
    assert.match((await page.textContent('main')) ?? '', /Add, complete and delete tasks/, 'the changed scope set asks for consent again');
    await Promise.all([page.waitForURL((u) => u.href.startsWith(redirectUrl)), page.click('button[value=allow]')]);
    await close();
    const received = callbacks.at(-1)!;
    assert.equal(received.searchParams.get('state'), provider.expectedState);
    const transport = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider, fetch: trustingFetch });
    await transport.finishAuth(received.searchParams.get('code')!);
    const client = new Client({ name: 'stytch-e2e', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider, fetch: trustingFetch }));
    try {
      const created = await client.callTool({ name: 'create_task', arguments: { title: 'Water the plants' } });
      assert.equal(created.isError, undefined);
      const tasks = (await client.callTool({ name: 'list_tasks', arguments: {} })).structuredContent as { tasks: Array<{ title: string }> };
      assert.deepEqual(tasks.tasks.map((t) => t.title), ['Water the plants']);
    } finally {
      await client.close();
    }
  });

  it('Deny: Stytch hands access_denied with the state to the client', async () => {
    const provider = new InMemoryOAuthProvider({ redirectUrl, clientName: 'Suspicious Helper' });
    const authorizationUrl = await discoverAndRegister(provider);
    const { page, close } = await openPage();
    await page.goto(authorizationUrl.href);
    await signInAtStytch(page);
    assert.match((await page.textContent('h1')) ?? '', /Suspicious Helper/);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(redirectUrl)), page.click('button[value=deny]')]);
    await close();
    const received = callbacks.at(-1)!;
    assert.equal(received.searchParams.get('error'), 'access_denied');
    assert.equal(received.searchParams.get('state'), provider.expectedState);
    assert.equal(received.searchParams.get('code'), null);
    assert.ok(logger.records().some((r) => r['msg'] === 'consent.denied' && r['client_id'] === provider.client?.client_id));
  });

  it('2025-03-26 back-compat: the MCP origin serves Stytch\'s authorization server metadata', async () => {
    const response = await fetch(`${origin}/.well-known/oauth-authorization-server`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as Record<string, unknown>;
    assert.equal(document['issuer'], project.baseUrl);
    assert.equal(document['authorization_endpoint'], `${origin}/oauth/authorize`);
    assert.equal(document['token_endpoint'], `${project.baseUrl}/v1/oauth2/token`);
    assert.equal(document['registration_endpoint'], `${project.baseUrl}/v1/oauth2/register`);
  });
});
