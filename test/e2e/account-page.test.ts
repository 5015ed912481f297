/**
 * The account page, prompt=login / select_account, the landing page and the dead-end page in Chromium
 * (Debian's chromium through playwright-core), against the real server on a loopback socket, with the
 * applications' tokens used at the real MCP endpoint and /token. Skipped, saying so, without chromium.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createUser } from '../../src/identity/users.ts';
import { browserAvailable, CHROMIUM_PATH, launchBrowser } from '../helpers/browser.ts';
import { E2E_USER, startRealServer, type RealServer } from '../helpers/e2e.ts';
import { authorizationRequest, connectApp, mcpStatus, refreshWith, signInIfAsked, startCallbackListener, type CallbackListener } from '../helpers/page-flows.ts';
import { authorizationRequestUrl, createPkcePair, registerPublicClient } from '../helpers/oauth-flow.ts';

let server: RealServer;
let origin = '';
let callback: CallbackListener;
let browser: Browser | undefined;
const BOB = { username: 'bob', password: 'bob has a long password' };

before(async () => {
  server = await startRealServer({ serverName: 'Acme Notes' });
  origin = server.origin;
  callback = await startCallbackListener();
  const { ctx } = server.portcullis;
  await createUser(ctx.storage, BOB, { now: ctx.clock.now(), random: ctx.random });
  if (browserAvailable()) browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await callback.close();
  await server.close();
});

const target = () => ({ origin, storage: server.portcullis.ctx.storage });

/** A fresh browser profile with nobody signed in. */
const freshContext = () => browser!.newContext({ viewport: { width: 1280, height: 900 } });

/** Opens /account, signing in on the way if the browser is signed out. */
async function openAccount(context: BrowserContext, user: { username: string; password: string }): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${origin}/account`);
  await signInIfAsked(page, user.username, user.password);
  assert.equal(new URL(page.url()).pathname, '/account', page.url());
  return page;
}

/** What a reader sees in the element (innerText: cells and lines apart), with whitespace collapsed. */
const text = async (page: Page, selector: string) => (await page.innerText(selector)).replace(/\s+/g, ' ');

describe('account page and sign-in choices in Chromium', { skip: browserAvailable() ? false : `chromium is not installed at ${CHROMIUM_PATH}` }, () => {
  it('issue 12 /account needs sign-in: a signed-out browser is sent to the login page and comes back to it', async () => {
    const context = await freshContext();
    const page = await context.newPage();
    await page.goto(`${origin}/account`);
    const login = new URL(page.url());
    assert.equal(login.pathname, '/login');
    assert.equal(login.searchParams.get('next'), '/account');
    assert.match(await text(page, 'main'), /Sign in to manage your account/);
    await signInIfAsked(page, E2E_USER.username, E2E_USER.password);
    assert.equal(new URL(page.url()).pathname, '/account');
    assert.match(await text(page, 'main'), /Signed in as alice/);
    // An open redirect is not on offer: a next that is not a path of this server is refused.
    await page.goto(`${origin}/login?next=${encodeURIComponent('//evil.example/x')}`);
    assert.equal(new URL(page.url()).origin, origin);
    assert.match(await text(page, 'h1'), /expired/);
    await context.close();
  });

  it('issue 12 revoke from /account: the access token at the MCP endpoint and the refresh token at /token stop working at once', async () => {
    const context = await freshContext();
    const notes = await connectApp(context, target(), callback.url, E2E_USER, { clientName: 'Notes Desktop', source: 'dcr', scope: 'tasks:read tasks:write offline_access' });
    const board = await connectApp(context, target(), callback.url, E2E_USER, { clientName: 'Team Board', source: 'cli', scope: 'tasks:read', grantTypes: ['authorization_code'] });
    assert.equal(await mcpStatus(origin, notes.accessToken), 200);
    assert.equal(await mcpStatus(origin, board.accessToken), 200);
    assert.ok(notes.refreshToken, 'a refresh token was issued');

    const page = await openAccount(context, E2E_USER);
    const notesCard = page.locator('li.app', { hasText: 'Notes Desktop' });
    const boardCard = page.locator('li.app', { hasText: 'Team Board' });
    const notesText = (await notesCard.innerText()).replace(/\s+/g, ' ');
    const boardText = (await boardCard.innerText()).replace(/\s+/g, ' ');
    // Name, whether it is verified, where it sends you, scopes in words, first and last use, standing access.
    assert.match(notesText, /Unverified Registered itself/);
    assert.match(notesText, new RegExp(`Sends you back to http://${new URL(callback.url).host.replace(/\./g, '\\.')}`));
    assert.match(notesText, /Stay connected when you are not using it/);
    assert.match(notesText, /Connected \d+ \w+ \d{4}, \d\d:\d\d UTC/);
    assert.match(notesText, /Last used \d+ \w+ \d{4}, \d\d:\d\d UTC/);
    assert.match(notesText, /Stays connected Yes, without asking you/);
    assert.match(boardText, /Verified Added by this server's administrator/);
    assert.match(boardText, /Stays connected No: its access ends within 60 minutes/);

    await Promise.all([page.waitForURL(/\/account\?done=revoked$/), notesCard.getByRole('button', { name: 'Revoke access' }).click()]);
    assert.match(await text(page, '[role=status]'), /access was revoked/);
    assert.equal(await page.locator('li.app', { hasText: 'Notes Desktop' }).count(), 0);
    assert.equal(await page.locator('li.app', { hasText: 'Team Board' }).count(), 1);

    assert.equal(await mcpStatus(origin, notes.accessToken), 401, 'the revoked access token is refused at once');
    assert.deepEqual(await refreshWith(origin, notes.clientId, notes.refreshToken!), { status: 400, error: 'invalid_grant' });
    assert.equal(await mcpStatus(origin, board.accessToken), 200, 'the other application keeps its access');
    const audit = server.portcullis.ctx.logger as unknown as { records(): Array<Record<string, unknown>> };
    assert.ok(audit.records().some((r) => r.msg === 'grant.revoked' && r.client_id === notes.clientId && r.by === 'user'));

    // The remembered consent went with it: reconnecting asks again.
    const again = authorizationRequest(origin, notes.clientId, callback.url, 'tasks:read');
    await page.goto(again.url.href);
    assert.equal(new URL(page.url()).pathname, '/consent');
    await context.close();
  });

  it("issue 12 revoke is bound to the user's session: another user's grant or a forged form changes nothing", async () => {
    const alice = await freshContext();
    const mine = await connectApp(alice, target(), callback.url, E2E_USER, { clientName: 'Alice Tool' });
    const { storage } = server.portcullis.ctx;
    const activity = await storage.grants.activityForUser((await storage.users.byUsername('alice'))!.id, server.clock.now());
    const grantId = activity.find((a) => a.grant.clientId === mine.clientId)!.grant.id;
    const bob = await freshContext();
    const page = await openAccount(bob, BOB);
    const token = await page.locator('form[action="/account/sign-out-everywhere"] input[name=csrf_token]').inputValue();
    const forged = await page.request.post(`${origin}/account/revoke`, { form: { csrf_token: token, grant: grantId }, maxRedirects: 0 });
    assert.equal(forged.status(), 403, 'a token for another form is refused');
    assert.equal(await mcpStatus(origin, mine.accessToken), 200, "alice's application still works");
    await alice.close();
    await bob.close();
  });

  it('issue 12 sign out everywhere ends the sessions of every browser of the user, and no application loses access', async () => {
    const first = await freshContext();
    const second = await freshContext();
    const app = await connectApp(first, target(), callback.url, BOB, { clientName: 'Bob Tool' });
    const page = await openAccount(first, BOB);
    const other = await openAccount(second, BOB);
    await Promise.all([page.waitForURL(/\/logout$/), page.getByRole('button', { name: 'Sign out everywhere' }).click()]);
    assert.match(await text(page, 'h1'), /You are signed out/);
    await other.reload();
    assert.equal(new URL(other.url()).pathname, '/login', 'the other browser is signed out too');
    await page.goto(`${origin}/account`);
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await mcpStatus(origin, app.accessToken), 200, 'applications keep their grants');
    await first.close();
    await second.close();
  });

  it('issue 12 change password: a wrong current password changes nothing; then the new one works, the old does not, other browsers are signed out', async () => {
    const carol = { username: 'carol', password: 'carol first password' };
    const { ctx } = server.portcullis;
    await createUser(ctx.storage, carol, { now: ctx.clock.now(), random: ctx.random });
    const here = await freshContext();
    const elsewhere = await freshContext();
    const page = await openAccount(here, carol);
    const other = await openAccount(elsewhere, carol);

    await page.fill('#current-password', 'not my password');
    await page.fill('#new-password', 'carol second password');
    await page.fill('#confirm-password', 'carol second password');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Change password' }).click()]);
    assert.match(await text(page, '#password-error'), /current password is not right/);
    await other.reload();
    assert.equal(new URL(other.url()).pathname, '/account', 'nothing changed');

    await page.fill('#current-password', carol.password);
    await page.fill('#new-password', 'carol second password');
    await page.fill('#confirm-password', 'carol second password');
    await Promise.all([page.waitForURL(/done=password$/), page.getByRole('button', { name: 'Change password' }).click()]);
    assert.match(await text(page, '[role=status]'), /password was changed/);
    await page.reload();
    assert.equal(new URL(page.url()).pathname, '/account', 'this browser stays signed in');
    await other.reload();
    assert.equal(new URL(other.url()).pathname, '/login', 'the other browser was signed out');

    await other.fill('#username', carol.username);
    await other.fill('#password', carol.password);
    await Promise.all([other.waitForLoadState('load'), other.click('button[type=submit]')]);
    assert.match(await text(other, '[role=alert]'), /do not match/);
    await signInIfAsked(other, carol.username, 'carol second password');
    assert.equal(new URL(other.url()).pathname, '/account');
    await here.close();
    await elsewhere.close();
  });

  it('OIDC Core §3.1.2.1 prompt=login asks a signed-in browser for the password again', async () => {
    const context = await freshContext();
    const app = await connectApp(context, target(), callback.url, E2E_USER, { clientName: 'Relogin App', scope: 'tasks:read' });
    const page = await context.newPage();
    // Without prompt: consent is remembered and the session is live, so straight back to the application.
    await page.goto(authorizationRequest(origin, app.clientId, callback.url, 'tasks:read').url.href);
    assert.ok(page.url().startsWith(callback.url), page.url());
    await page.goto(authorizationRequest(origin, app.clientId, callback.url, 'tasks:read', { prompt: 'login' }).url.href);
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.match(await text(page, 'main'), /You are signed in as alice\. The application asks you to enter your password again/);
    assert.equal(await page.inputValue('#username'), 'alice');
    await page.fill('#password', E2E_USER.password);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(callback.url)), page.click('form:has(#password) button[type=submit]')]);
    assert.ok(new URL(page.url()).searchParams.get('code'));
    await context.close();
  });

  it('OIDC Core §3.1.2.1 prompt=select_account: continue as the signed-in account, or sign in as another', async () => {
    const context = await freshContext();
    const app = await connectApp(context, target(), callback.url, E2E_USER, { clientName: 'Chooser App', scope: 'tasks:read' });
    const page = await context.newPage();
    await page.goto(authorizationRequest(origin, app.clientId, callback.url, 'tasks:read', { prompt: 'select_account' }).url.href);
    assert.equal(new URL(page.url()).pathname, '/login');
    await Promise.all([page.waitForURL((u) => u.href.startsWith(callback.url)), page.getByRole('button', { name: 'Continue as alice' }).click()]);
    assert.ok(new URL(page.url()).searchParams.get('code'));

    await page.goto(authorizationRequest(origin, app.clientId, callback.url, 'tasks:read', { prompt: 'select_account' }).url.href);
    await page.fill('#username', BOB.username);
    await page.fill('#password', BOB.password);
    await Promise.all([page.waitForURL(/\/consent\?/), page.click('form:has(#password) button[type=submit]')]);
    assert.match(await text(page, '.facts'), /Signed in as bob/, 'bob has not allowed this application yet: his consent page');
    await context.close();
  });

  it('issue 12 consent says who is signed in: "Not you? Sign out" leads to the same request\'s login page, and Manage access to /account', async () => {
    const context = await freshContext();
    const page = await context.newPage();
    await openAccount(context, E2E_USER);
    const client = await registerPublicClient(server.portcullis.ctx.storage, { redirectUris: [callback.url], clientName: 'Switch App' });
    await page.goto(authorizationRequest(origin, client.clientId, callback.url, 'tasks:read').url.href);
    assert.equal(new URL(page.url()).pathname, '/consent');
    assert.equal(await page.getAttribute('a:text("Manage access")', 'href'), '/account');
    await Promise.all([page.waitForURL(/\/login\?request=/), page.getByRole('button', { name: 'Sign out' }).click()]);
    await signInIfAsked(page, BOB.username, BOB.password);
    assert.equal(new URL(page.url()).pathname, '/consent');
    assert.match(await text(page, '.facts'), /Signed in as bob/);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(callback.url)), page.click('button[value=allow]')]);
    await context.close();
  });

  it('issue 12 the landing page: a page for a browser, JSON for a program', async () => {
    const context = await freshContext();
    const page = await context.newPage();
    const response = await page.goto(`${origin}/`);
    assert.equal(response?.status(), 200);
    assert.match(response?.headers()['content-type'] ?? '', /^text\/html/);
    assert.equal(await text(page, 'h1'), 'Connect to Acme Notes');
    assert.equal(await text(page, '#mcp-url'), `${origin}/mcp`);
    assert.match(await text(page, '#status'), /Running/);
    const connect = await text(page, '.connect');
    assert.match(connect, new RegExp(`claude mcp add --transport http acme-notes ${origin}/mcp`));
    assert.match(connect, /"servers": \{ "acme-notes": \{ "type": "http"/);
    assert.match(connect, /"mcpServers": \{ "acme-notes"/);
    assert.match(connect, new RegExp(`npx mcp-remote ${origin}/mcp`));
    assert.equal(await page.getAttribute('a[href="/account"]', 'href'), '/account');
    await context.close();

    for (const accept of ['application/json', '*/*', undefined]) {
      const answer = await fetch(`${origin}/`, { headers: accept ? { Accept: accept } : {} });
      assert.equal(answer.status, 200);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/, String(accept));
      assert.deepEqual(await answer.json(), {
        name: 'Acme Notes',
        mcp_endpoint: `${origin}/mcp`,
        protected_resource_metadata: `${origin}/.well-known/oauth-protected-resource/mcp`,
        issuer: origin,
        status: 'ok',
      });
    }
  });

  it('issue 12 a stale client_id or redirect_uri gets directions, with the protocol view under Technical details', async () => {
    const context = await freshContext();
    const page = await context.newPage();
    const pkce = createPkcePair();
    const unknown = authorizationRequestUrl(origin, { response_type: 'code', client_id: 'gone-client-123', redirect_uri: callback.url, code_challenge: pkce.challenge, code_challenge_method: 'S256' });
    const response = await page.goto(unknown.href);
    assert.equal(response?.status(), 400);
    assert.equal(new URL(page.url()).origin, origin, 'not redirected');
    const main = await text(page, 'main');
    assert.match(main, /registration this server does not know/);
    assert.match(main, /rm -rf ~\/\.mcp-auth/);
    assert.match(main, /Clear authentication/);
    assert.match(main, /Cursor Settings → MCP/);
    assert.match(main, /Remove Dynamic Authentication Providers/);
    assert.equal(await page.isVisible('details pre, details dl'), false, 'technical details start closed');
    await page.click('summary:text("Technical details")');
    assert.match(await text(page, 'details'), /Error invalid_client client_id gone-client-123[\s\S]*OAuth 2\.1 §4\.1\.2\.1/);

    const client = await registerPublicClient(server.portcullis.ctx.storage, { redirectUris: [callback.url], clientName: 'Moved App' });
    const moved = authorizationRequestUrl(origin, { response_type: 'code', client_id: client.clientId, redirect_uri: 'http://127.0.0.1:9/elsewhere', code_challenge: pkce.challenge, code_challenge_method: 'S256' });
    assert.equal((await page.goto(moved.href))?.status(), 400);
    assert.match(await text(page, 'main'), /does not list/);
    await page.click('summary:text("Technical details")');
    assert.match(await text(page, 'details'), /redirect_uri http:\/\/127\.0\.0\.1:9\/elsewhere/);
    await context.close();
  });
});
