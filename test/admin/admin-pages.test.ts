import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLoginSession } from '../../src/identity/login-sessions.ts';
import { createUser } from '../../src/identity/users.ts';
import { createTestApp } from '../helpers/app.ts';
import type { UserRecord } from '../../src/storage/types.ts';
import { initializeMessage, post as mcpPost } from '../mcp/wire.ts';
import { browserFetch, cookieJar, formData, inProcessFetch, pageMessage, parseForms, type FetchLike, type HtmlForm } from '../helpers/oauth-flow.ts';
import { addClient, addCode, errorOf, redeem, refresh, setup, type Fixture } from '../token/fixtures.ts';

/**
 * Issue 12 `/admin`, in-process with the real pages and forms: who gets in, CSRF on every action, and
 * each action doing what the CLI's does (tokens end at once, audit events naming the administrator).
 */
describe('/admin', () => {
  let t: Fixture;
  let admin: UserRecord;
  const PASSWORD = 'correct horse battery';

  before(async () => {
    t = await setup();
    admin = await createUser(t.storage, { username: 'root', password: PASSWORD, isAdmin: true }, { now: t.clock.now(), random: t.ctx.random });
  });
  after(async () => {
    await t.close();
  });

  /** A browser with its own cookie jar; `signIn` posts the /admin sign-in form as a person would. */
  function browser() {
    const send = browserFetch(inProcessFetch(t.app), cookieJar());
    const get = (path: string) => send(new URL(path, t.origin), { method: 'GET' });
    const submit = (form: HtmlForm, fill: Record<string, string> = {}) =>
      send(form.action, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: formData(form, fill).toString() });
    const page = async (path: string) => {
      const res = await get(path);
      const html = await res.text();
      return { res, html, forms: parseForms(html, new URL(path, t.origin)) };
    };
    const signIn = async (username: string, password = PASSWORD) => {
      const { forms } = await page('/admin/sign-in');
      return submit(forms[0]!, { username, password });
    };
    return { send, get, submit, page, signIn };
  }
  const formFor = (forms: HtmlForm[], action: string, field: string, value: string) =>
    forms.find((f) => f.action.pathname === `/admin/${action}` && f.inputs.some((i) => i.name === field && i.value === value));

  async function connectApp(user: UserRecord, clientName: string) {
    const { client } = await addClient(t, { clientName });
    const issued = await addCode(t, client, { user });
    return { client, grantId: issued.grantId, tokens: await redeem(t, client, issued) };
  }

  it('a signed-out browser is sent to sign in, and comes back to /admin once signed in', async () => {
    const b = browser();
    const first = await b.get('/admin/users');
    assert.equal(first.status, 303);
    assert.equal(first.headers.get('Location'), `${t.origin}/admin/sign-in`);
    const wrong = await b.signIn('root', 'not the password');
    assert.equal(wrong.status, 400);
    assert.equal(pageMessage(await wrong.text()), 'That username and password do not match.');
    const signedIn = await b.signIn('root');
    assert.equal(signedIn.status, 303);
    assert.equal(signedIn.headers.get('Location'), `${t.origin}/admin`);
    const users = await b.page('/admin/users');
    assert.equal(users.res.status, 200);
    assert.match(users.html, /<h1>Administration<\/h1>/);
    assert.equal(users.res.headers.get('Cache-Control'), 'no-store');
    assert.match(users.res.headers.get('Content-Security-Policy') ?? '', /frame-ancestors 'none'/);
  });

  it('the sign-in form needs its CSRF cookie: a cross-site post signs nobody in', async () => {
    const b = browser();
    const { forms } = await b.page('/admin/sign-in');
    const other = browser(); // another browser, without the first one's login-CSRF cookie
    const res = await other.submit(forms[0]!, { username: 'root', password: PASSWORD });
    assert.equal(res.status, 403);
    assert.equal((await other.get('/admin/users')).status, 303, 'still signed out');
  });

  it('a signed-in user who is not an administrator gets 403', async () => {
    await createUser(t.storage, { username: 'plain', password: PASSWORD }, { now: t.clock.now(), random: t.ctx.random });
    const b = browser();
    await b.signIn('plain');
    for (const path of ['/admin', '/admin/users', '/admin/clients', '/admin/grants']) {
      const res = await b.get(path);
      assert.equal(res.status, 403, path);
      assert.match(await res.text(), /Administrators only/);
    }
    const post = await b.send(new URL('/admin/users/admin', t.origin), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'user_id=x' });
    assert.equal(post.status, 403);
  });

  it('SEC-34 revoking a grant from /admin/grants ends its refresh token and its access token at once; audited with the administrator', async () => {
    const alice = t.user; // setup()'s user
    const app = await connectApp(alice, 'Notes <b>app</b>');
    const auth = { Authorization: `Bearer ${app.tokens.access_token}` };
    assert.equal((await mcpPost(t, initializeMessage(), auth)).status, 200);

    const b = browser();
    await b.signIn('root');
    const grants = await b.page(`/admin/grants?user=${alice.id}`);
    assert.match(grants.html, /Live grants of <strong><bdi>alice<\/bdi><\/strong>/);
    assert.match(grants.html, /Notes &lt;b&gt;app&lt;\/b&gt;/, 'client names are escaped');
    const form = formFor(grants.forms, 'grants/revoke', 'grant_id', app.grantId);
    assert.ok(form, 'a Revoke form for the grant');
    const res = await b.submit(form);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('Location'), `${t.origin}/admin/grants?done=grant_revoked`);

    assert.equal((await mcpPost(t, initializeMessage(), auth)).status, 401, 'the access token stops at once in this process');
    assert.equal((await errorOf(await refresh(t, app.client, app.tokens.refresh_token!))).error, 'invalid_grant');
    const event = t.logger.records().find((r) => r['msg'] === 'admin.grant_revoked');
    assert.equal(event?.['actor'], 'web');
    assert.equal(event?.['actor_username'], 'root');
    assert.equal(event?.['grant_id'], app.grantId);
    assert.match((await b.page('/admin/grants?done=grant_revoked')).html, /The grant was revoked\./);
  });

  it('every action checks its CSRF token, bound to the session, the action and its target; nothing changes without it', async () => {
    const bob = await createUser(t.storage, { username: 'bob', password: PASSWORD }, { now: t.clock.now(), random: t.ctx.random });
    const carol = await createUser(t.storage, { username: 'carol', password: PASSWORD }, { now: t.clock.now(), random: t.ctx.random });
    const b = browser();
    await b.signIn('root');
    const users = await b.page('/admin/users');
    const makeBob = formFor(users.forms, 'users/admin', 'user_id', bob.id)!;
    const post = (form: HtmlForm, data: URLSearchParams) =>
      b.send(form.action, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: data.toString() });

    const withoutToken = formData(makeBob, {});
    withoutToken.delete('csrf_token');
    assert.equal((await post(makeBob, withoutToken)).status, 403);
    assert.equal((await post(makeBob, formData(makeBob, { user_id: carol.id }))).status, 403, "bob's token does not act on carol");
    const otherAction = new URL('/admin/users/remove', t.origin);
    assert.equal((await b.send(otherAction, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: formData(makeBob, {}).toString() })).status, 403, 'nor does it remove bob');
    const elsewhere = browser();
    await elsewhere.signIn('root');
    assert.equal((await elsewhere.send(makeBob.action, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: formData(makeBob, {}).toString() })).status, 403, "another session's token is not this one's");
    assert.equal((await t.storage.users.byId(bob.id))?.isAdmin, false, 'nothing changed');
    assert.ok(await t.storage.users.byId(bob.id));

    assert.equal((await post(makeBob, formData(makeBob, {}))).status, 303);
    assert.equal((await t.storage.users.byId(bob.id))?.isAdmin, true, 'with its token it works');
  });

  it('sign out everywhere, and removing a user after a confirmation page; an administrator cannot remove or demote themselves', async () => {
    const dave = await createUser(t.storage, { username: 'dave', password: PASSWORD }, { now: t.clock.now(), random: t.ctx.random });
    const daves = browser();
    await daves.signIn('dave');
    const app = await connectApp(dave, 'Dave tool');

    const b = browser();
    await b.signIn('root');
    let users = await b.page('/admin/users');
    assert.equal(formFor(users.forms, 'users/admin', 'user_id', admin.id), undefined, 'no demotion of oneself');
    assert.doesNotMatch(users.html, new RegExp(`/admin/users/remove\\?user=${admin.id}`), 'no removal of oneself');

    await b.submit(formFor(users.forms, 'users/end-sessions', 'user_id', dave.id)!);
    assert.equal((await t.storage.loginSessions.list({ now: t.clock.now(), userId: dave.id })).length, 0);

    const confirm = await b.page(`/admin/users/remove?user=${dave.id}`);
    assert.match(confirm.html, /Remove dave\?/);
    assert.match(confirm.html, /Its one connected app is revoked/);
    assert.ok(await t.storage.users.byId(dave.id), 'the confirmation page changes nothing');
    const res = await b.submit(formFor(confirm.forms, 'users/remove', 'user_id', dave.id)!);
    assert.equal(res.headers.get('Location'), `${t.origin}/admin/users?done=user_removed`);
    assert.equal(await t.storage.users.byId(dave.id), null);
    assert.equal((await errorOf(await refresh(t, app.client, app.tokens.refresh_token!))).error, 'invalid_grant');
    assert.deepEqual(t.logger.records().filter((r) => r['username'] === 'dave' && String(r['msg']).startsWith('admin.')).map((r) => r['msg']), ['admin.sessions_ended', 'admin.user_removed']);

    const self = await b.page(`/admin/users/remove?user=${admin.id}`);
    assert.equal(self.res.status, 303);
    users = await b.page('/admin/users?done=self');
    assert.match(users.html, /you cannot remove yourself/);
  });

  it('clients list their last use and live grants, and a client is removed after a confirmation page', async () => {
    const erin = await createUser(t.storage, { username: 'erin', password: PASSWORD }, { now: t.clock.now(), random: t.ctx.random });
    const app = await connectApp(erin, 'Erin reader');
    const b = browser();
    await b.signIn('root');
    const clients = await b.page('/admin/clients');
    const row = new RegExp(`Erin reader</bdi><br><code>${app.client.clientId}</code></th>\\s*<td>public</td>\\s*<td>operator</td>\\s*<td class="nowrap">[0-9-]+</td>\\s*<td class="nowrap">[0-9-]+</td>\\s*<td><a href="/admin/grants\\?client=${app.client.clientId}">1<`);
    assert.match(clients.html, row);
    const confirm = await b.page(`/admin/clients/remove?client=${app.client.clientId}`);
    assert.match(confirm.html, /its one live grant is revoked/);
    await b.submit(formFor(confirm.forms, 'clients/remove', 'client_id', app.client.clientId)!);
    assert.equal(await t.storage.clients.get(app.client.clientId), null);
    assert.equal((await mcpPost(t, initializeMessage(), { Authorization: `Bearer ${app.tokens.access_token}` })).status, 401);
    assert.equal(t.logger.records().find((r) => r['msg'] === 'admin.client_removed')?.['client_id'], app.client.clientId);
  });
});

describe('/admin with an upstream identity provider', () => {
  it('offers no password sign-in, explains the way in, and lets an administrator signed in through an app in', async () => {
    const t = await createTestApp({ identityProvider: { kind: 'oidc', displayName: 'Example SSO', oidc: { issuer: 'https://sso.example', clientId: 'rp', clientSecret: 'rp-secret' } } });
    try {
      const page = await t.request('/admin/sign-in');
      assert.equal(page.status, 400);
      const html = await page.text();
      assert.match(html, /Sign in through your identity provider/);
      assert.doesNotMatch(html, /type="password"/);
      const post = await t.request('/admin/sign-in', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'username=a&password=b' });
      assert.equal(post.status, 400, 'no password is checked');

      // An account the provider made, made an administrator (`users admin`), signed in by an app's authorization.
      const user = { id: 'usr_sso', username: 'ann@sso.example', passwordHash: '!', isAdmin: true, createdAt: t.clock.now() };
      await t.storage.users.create(user);
      const { setCookie } = await startLoginSession(t.ctx, user);
      const admin = await t.request('/admin/users', { headers: { Cookie: setCookie.split(';')[0]! } });
      assert.equal(admin.status, 200);
      assert.match(await admin.text(), /Signed in as <strong>ann@sso\.example<\/strong>/);
    } finally {
      await t.close();
    }
  });
});
