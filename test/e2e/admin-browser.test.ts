/**
 * Issue 12 `/admin` in Chromium (playwright-core), against the real server on a loopback socket: an
 * administrator signs in, revokes a grant, signs a user out everywhere and removes a user, by clicking;
 * and axe-core finds no violation on any admin page, in light and in dark. Skipped, saying so, when
 * chromium is not installed.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { resolveConfig } from '../../src/config/resolve.ts';
import { startLoginSession } from '../../src/identity/login-sessions.ts';
import { createUser } from '../../src/identity/users.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import type { UserRecord } from '../../src/storage/types.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { axeInBothSchemes } from '../helpers/accessibility.ts';
import { browserAvailable, CHROMIUM_PATH, launchBrowser } from '../helpers/browser.ts';
import { registerPublicClient } from '../helpers/oauth-flow.ts';
import { grantRecord } from '../helpers/records.ts';

const PASSWORD = 'correct horse battery staple';
const SHOTS = '/tmp/portcullis-shots';

let server: ServerType;
let portcullis: Portcullis;
let origin = '';
let browser: Browser | undefined;
let alice: UserRecord;
let bob: UserRecord;
const grantIds: string[] = [];

before(async () => {
  let handle: (request: Request, env: unknown) => Response | Promise<Response> = () => new Response('starting', { status: 503 });
  server = serve({ fetch: (request, env) => handle(request, env), port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  portcullis = await createPortcullis({ config: resolveConfig({ publicUrl: origin, database: ':memory:' }), storage: await openSqliteStorage(':memory:'), logger: createMemoryLogger() });
  handle = (request, env) => portcullis.app.fetch(request, env);

  const { ctx } = portcullis;
  const deps = { now: ctx.clock.now(), random: ctx.random };
  await createUser(ctx.storage, { username: 'admin', password: PASSWORD, isAdmin: true }, deps);
  alice = await createUser(ctx.storage, { username: 'alice', password: PASSWORD }, deps);
  bob = await createUser(ctx.storage, { username: 'bob', password: PASSWORD }, deps);
  for (const [name, user] of [['Notes Desktop', alice], ['Claude Code', alice], ['Bob’s <i>agent</i>', bob]] as const) {
    const client = await registerPublicClient(ctx.storage, { redirectUris: ['http://127.0.0.1:33418/callback'], clientName: name });
    const grant = grantRecord({ userId: user.id, clientId: client.clientId, scopes: ['tasks:read', 'tasks:write'], resource: `${origin}/mcp`, createdAt: ctx.clock.now() });
    await ctx.storage.grants.create(grant);
    grantIds.push(grant.id);
  }
  await startLoginSession(ctx, alice);
  await startLoginSession(ctx, alice);

  if (browserAvailable()) browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => server.close(resolve));
  await portcullis.close();
});

/** CSP violations and script errors show up as console errors; none are expected. */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.location().url.endsWith('/favicon.ico')) return;
    if (/Content.Security.Policy/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return problems;
}

async function signIn(page: Page, username: string): Promise<void> {
  await page.goto(`${origin}/admin`);
  assert.equal(new URL(page.url()).pathname, '/admin/sign-in');
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL((u) => u.pathname !== '/admin/sign-in'), page.click('button[type=submit]')]);
}

describe('/admin in Chromium', { skip: browserAvailable() ? false : `chromium is not installed at ${CHROMIUM_PATH} (apt-get install -y chromium)` }, () => {
  it('an administrator signs in, revokes a grant, signs a user out everywhere and removes a user, by clicking', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchProblems(page);
    await signIn(page, 'admin');
    assert.equal(new URL(page.url()).pathname, '/admin/users');
    assert.equal(await page.textContent('h1'), 'Administration');
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: `${SHOTS}/admin-users.png`, fullPage: true });

    // Grants of alice, from her row; revoke the first.
    await Promise.all([page.waitForURL(/\/admin\/grants\?user=/), page.click(`a[href="/admin/grants?user=${alice.id}"]`)]);
    assert.equal(await page.locator('tbody tr').count(), 2);
    await page.screenshot({ path: `${SHOTS}/admin-grants.png`, fullPage: true });
    await Promise.all([page.waitForURL(/done=grant_revoked/), page.click(`form:has(input[value="${grantIds[0]}"]) button`)]);
    assert.match((await page.textContent('[role=status]')) ?? '', /The grant was revoked/);
    assert.equal(await portcullis.ctx.grants.isLive(grantIds[0]!), false, 'revoked, and this server refuses its tokens at once');
    assert.equal(await page.locator(`text=${grantIds[0]}`).count(), 0, 'no longer listed');

    // Sign alice out everywhere.
    await page.click('a[href="/admin/users"]');
    await Promise.all([page.waitForURL(/done=sessions_ended/), page.click(`form:has(input[value="${alice.id}"])[action="/admin/users/end-sessions"] button`)]);
    assert.deepEqual(await portcullis.ctx.storage.loginSessions.list({ now: portcullis.ctx.clock.now(), userId: alice.id }), []);

    // Remove bob, through the confirmation page.
    await Promise.all([page.waitForURL(/\/admin\/users\/remove\?user=/), page.click(`a[href="/admin/users/remove?user=${bob.id}"]`)]);
    assert.match((await page.textContent('main')) ?? '', /Remove bob\?/);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: `${SHOTS}/admin-confirm-dark.png`, fullPage: true });
    await Promise.all([page.waitForURL(/done=user_removed/), page.click('button:has-text("Remove bob")')]);
    assert.equal(await portcullis.ctx.storage.users.byId(bob.id), null);
    assert.equal(await portcullis.ctx.grants.isLive(grantIds[2]!), false, "bob's grant ended with him");
    assert.deepEqual(problems, [], 'no CSP violation or script error');
    await context.close();
  });

  it('a user who is not an administrator gets the 403 page', async () => {
    const context = await browser!.newContext();
    const page = await context.newPage();
    await signIn(page, 'alice');
    const response = await page.goto(`${origin}/admin/users`);
    assert.equal(response?.status(), 403);
    assert.equal(await page.textContent('h1'), 'Administrators only');
    await context.close();
  });

  it('axe-core finds no violation on any admin page, light and dark', async () => {
    // The pages allow no script at all; axe is a script, so this context bypasses the CSP to run it.
    const context: BrowserContext = await browser!.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    // The check can fail: an image without a text alternative is found, in both schemes.
    await page.setContent('<!doctype html><html lang="en"><title>t</title><main><img src="data:,"></main></html>');
    assert.equal((await axeInBothSchemes(page)).filter((v) => v.includes('image-alt')).length, 2);

    const found: string[] = [];
    await page.goto(`${origin}/admin/sign-in`);
    const background = async (colorScheme: 'light' | 'dark') => {
      await page.emulateMedia({ colorScheme });
      return page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    };
    assert.notEqual(await background('light'), await background('dark'), 'the dark scheme really applies');
    found.push(...(await axeInBothSchemes(page)));
    await page.fill('#username', 'admin');
    await page.fill('#password', 'wrong password!');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    assert.ok(await page.locator('[role=alert]').count(), 'the error state');
    found.push(...(await axeInBothSchemes(page)));
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(/\/admin\/users/), page.click('button[type=submit]')]);

    for (const path of ['/admin/users', '/admin/users?done=grant_revoked', '/admin/users?done=gone', '/admin/clients', '/admin/grants', `/admin/grants?user=${alice.id}`, `/admin/users/remove?user=${alice.id}`]) {
      await page.goto(`${origin}${path}`);
      found.push(...(await axeInBothSchemes(page)));
    }
    await context.close();

    const other = await browser!.newContext({ bypassCSP: true });
    const forbidden = await other.newPage();
    await signIn(forbidden, 'alice');
    await forbidden.goto(`${origin}/admin/users`);
    found.push(...(await axeInBothSchemes(forbidden)));
    await other.close();
    assert.deepEqual(found, []);
  });
});
