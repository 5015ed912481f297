/**
 * The account page's forms in process: who may change what, and that a refused form changes nothing.
 * (The pages themselves are driven in Chromium in test/e2e/account-page.test.ts.)
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { revokeSubject } from '../../src/account/connected-apps.ts';
import { wantsHtml } from '../../src/http/landing.ts';
import { sessionCsrfToken } from '../../src/identity/csrf.ts';
import { sessionCookieName, startLoginSession } from '../../src/identity/login-sessions.ts';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../../src/identity/passwords.ts';
import { returnPath } from '../../src/identity/return-path.ts';
import { createUser } from '../../src/identity/users.ts';
import type { UserRecord } from '../../src/storage/types.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { grantRecord } from '../helpers/records.ts';

let app: TestApp;
let alice: UserRecord;
let bob: UserRecord;
const PASSWORDS = { alice: 'alice password one', bob: 'bob password one' };

before(async () => {
  app = await createTestApp();
  const deps = { now: app.clock.now(), random: app.ctx.random };
  alice = await createUser(app.storage, { username: 'alice', password: PASSWORDS.alice }, deps);
  bob = await createUser(app.storage, { username: 'bob', password: PASSWORDS.bob }, deps);
});

/** A signed-in browser of `user`: its Cookie header and its session (with the form key its pages use). */
async function signIn(user: UserRecord) {
  const { session, setCookie } = await startLoginSession(app.ctx, user);
  const cookie = setCookie.split(';')[0]!;
  assert.ok(cookie.startsWith(`${sessionCookieName(app.ctx)}=`));
  return { session, cookie };
}

const post = (path: string, cookie: string | undefined, body: Record<string, string>) =>
  app.request(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(cookie ? { Cookie: cookie } : {}) }, body: new URLSearchParams(body) });

async function liveGrantOf(user: UserRecord) {
  const grant = grantRecord({ userId: user.id, clientId: 'client-x', resource: app.ctx.config.resource, scopes: ['tasks:read'], createdAt: app.clock.now() });
  await app.storage.grants.create(grant);
  return grant;
}

describe('account forms', () => {
  it('issue 12 revoke: a valid form for another user\'s grant is "not found" and the grant stays live', async () => {
    const grant = await liveGrantOf(alice);
    const { session, cookie } = await signIn(bob);
    const response = await post('/account/revoke', cookie, { grant: grant.id, csrf_token: sessionCsrfToken(session, 'account', revokeSubject(grant.id)) });
    assert.equal(response.status, 404);
    assert.match(await response.text(), /Nothing was changed/);
    assert.equal((await app.storage.grants.get(grant.id))?.revokedAt, null);
  });

  it('SEC-26 revoke: without the token of this form, or signed out, nothing is revoked', async () => {
    const grant = await liveGrantOf(alice);
    const { session, cookie } = await signIn(alice);
    for (const token of ['', 'forged', sessionCsrfToken(session, 'account', revokeSubject('another-grant')), sessionCsrfToken(session, 'logout')]) {
      assert.equal((await post('/account/revoke', cookie, { grant: grant.id, csrf_token: token })).status, 403);
    }
    const signedOut = await post('/account/revoke', undefined, { grant: grant.id, csrf_token: sessionCsrfToken(session, 'account', revokeSubject(grant.id)) });
    assert.equal(signedOut.status, 303);
    assert.equal(new URL(signedOut.headers.get('Location')!).pathname, '/login');
    assert.equal((await app.storage.grants.get(grant.id))?.revokedAt, null);

    const done = await post('/account/revoke', cookie, { grant: grant.id, csrf_token: sessionCsrfToken(session, 'account', revokeSubject(grant.id)) });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('Location'), `${app.origin}/account?done=revoked`);
    assert.notEqual((await app.storage.grants.get(grant.id))?.revokedAt, null);
    assert.equal(await app.ctx.grants.isLive(grant.id), false, 'this instance stops its access tokens at once');
  });

  it('issue 12 change password: too short, not repeated the same, or a wrong current password changes nothing', async () => {
    const { session, cookie } = await signIn(bob);
    const token = sessionCsrfToken(session, 'account', 'password');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ current_password: PASSWORDS.bob, new_password: 'short', confirm_password: 'short' }, /at least 10 characters/],
      [{ current_password: PASSWORDS.bob, new_password: 'bob password two', confirm_password: 'bob password 2' }, /not the same/],
      [{ current_password: 'wrong password', new_password: 'bob password two', confirm_password: 'bob password two' }, /current password is not right/],
    ];
    for (const [fields, message] of cases) {
      const response = await post('/account/password', cookie, { csrf_token: token, ...fields });
      assert.equal(response.status, 400);
      const html = await response.text();
      assert.match(html, message);
      assert.match(html, /role="alert" id="password-error"/);
    }
    assert.equal(await verifyPassword(PASSWORDS.bob, (await app.storage.users.byId(bob.id))!.passwordHash), true, 'the password is unchanged');
    assert.equal((await post('/account/password', cookie, { csrf_token: 'forged', current_password: PASSWORDS.bob, new_password: 'x'.repeat(12), confirm_password: 'x'.repeat(12) })).status, 403);
    const logged = app.logger.lines.join('\n');
    for (const secret of ['bob password two', 'bob password 2', 'wrong password', PASSWORDS.bob]) assert.ok(!logged.includes(secret), 'no password in the logs');
  });

  it('issue 12 an account that signs in elsewhere (no local password) is offered no password form and cannot post one', async () => {
    const external = await createUser(app.storage, { username: 'ext', password: 'placeholder password' }, { now: app.clock.now(), random: app.ctx.random });
    await app.storage.users.setPassword(external.id, DUMMY_PASSWORD_HASH);
    const { session, cookie } = await signIn({ ...external, passwordHash: DUMMY_PASSWORD_HASH });
    const page = await (await app.request('/account', { headers: { Cookie: cookie } })).text();
    assert.match(page, /Connected applications/);
    assert.doesNotMatch(page, /Change password/);
    const response = await post('/account/password', cookie, { csrf_token: sessionCsrfToken(session, 'account', 'password'), current_password: 'x', new_password: 'y'.repeat(12), confirm_password: 'y'.repeat(12) });
    assert.equal(response.status, 400);
    assert.equal((await app.storage.users.byId(external.id))!.passwordHash, DUMMY_PASSWORD_HASH);
  });

  it('issue 12 the notice after an action comes from a fixed set: the query cannot put words on the page', async () => {
    const { cookie } = await signIn(alice);
    const page = await (await app.request('/account?done=%3Cb%3Eyou%20were%20hacked%3C%2Fb%3E', { headers: { Cookie: cookie } })).text();
    assert.doesNotMatch(page, /hacked/);
    assert.doesNotMatch(page, /role="status"/);
  });
});

describe('landing page negotiation and return paths', () => {
  it('RFC 9110 §12.5.1 a browser (text/html ranked first) gets the page; JSON, */* or no Accept gets JSON', () => {
    assert.equal(wantsHtml('text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8'), true);
    assert.equal(wantsHtml('text/html;q=0.5, application/json'), false);
    assert.equal(wantsHtml('application/json'), false);
    assert.equal(wantsHtml('*/*'), false);
    assert.equal(wantsHtml(undefined), false);
    assert.equal(wantsHtml('text/html;q=0'), false);
  });

  it('SEC-06 a sign-in returns only to a path of this server: no URL, network path, backslash, dot segment or query', () => {
    for (const ok of ['/account', '/admin/users', '/']) assert.equal(returnPath(ok), ok);
    for (const bad of ['https://evil.example/', '//evil.example', '/\\evil.example', '/a/../b', '/account?x=1', 'account', '', null, '/' + 'a'.repeat(300)]) {
      assert.equal(returnPath(bad), null, String(bad));
    }
  });
});
