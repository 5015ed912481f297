import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openDatabase } from '../../src/bootstrap/open-database.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { startLoginSession } from '../../src/identity/login-sessions.ts';
import { verifyPassword } from '../../src/identity/passwords.ts';
import { createUser } from '../../src/identity/users.ts';
import type { LogFields } from '../../src/log/logger.ts';
import { createTestApp } from '../helpers/app.ts';
import { initializeMessage, post as mcpPost } from '../mcp/wire.ts';
import { addClient, addCode, errorOf, redeem, refresh, type Fixture } from '../token/fixtures.ts';
import { runCli, spawnCli, tempDatabase } from './helpers.ts';

/**
 * Issue 12 administration from the command line, against the database a running server uses: the
 * server here is in-process on the same SQLite file, and its tokens are real (code redeemed at /token).
 */

/** The JSON audit lines a command wrote to standard error. */
const auditOf = (stderr: string): LogFields[] =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogFields)
    .filter((record) => record['audit'] === true);

describe('portcullis grants, sessions, clients and users: administration (issue 12)', () => {
  const db = tempDatabase();
  const env = { PORTCULLIS_DATABASE: db.database };
  let t: Fixture;

  before(async () => {
    const storage = await openDatabase(resolveConfig({ database: db.database }));
    const app = await createTestApp({}, { storage });
    const user = await createUser(storage, { username: 'alice', password: 'correct horse battery' }, { now: app.clock.now(), random: app.ctx.random });
    await createUser(storage, { username: 'bob', password: 'correct horse battery' }, { now: app.clock.now(), random: app.ctx.random });
    t = Object.assign(app, { user, secrets: new Set<string>() });
  });
  after(async () => {
    await t.close();
    db.cleanup();
  });

  /** A real grant of alice's (or `user`'s) to a new client: code redeemed, access and refresh token issued. */
  async function connectApp(clientName: string, user = t.user) {
    const { client } = await addClient(t, { clientName });
    const issued = await addCode(t, client, { user });
    const tokens = await redeem(t, client, issued);
    return { client, grantId: issued.grantId, tokens };
  }
  const mcpStatus = async (accessToken: string) => {
    const res = await mcpPost(t, initializeMessage(), { Authorization: `Bearer ${accessToken}` });
    await res.body?.cancel();
    return res.status;
  };

  it('grants list: a header, then one live grant a line with its id first; --user and --client filter', async () => {
    const notes = await connectApp('Notes');
    const diary = await connectApp('Diary');
    const bob = await t.storage.users.byUsername('bob');
    const bobs = await connectApp('Bob tool', bob!);

    const all = await runCli(['grants', 'list'], env);
    assert.equal(all.code, 0, all.stderr);
    const [header, ...lines] = all.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^GRANT ID\s+USER\s+CLIENT ID\s+CLIENT NAME\s+CREATED\s+EXPIRES\s+SCOPE$/);
    assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]).sort(), [notes.grantId, diary.grantId, bobs.grantId].sort());
    assert.match(lines.find((l) => l.startsWith(notes.grantId)) ?? '', new RegExp(`^${notes.grantId}\\s+alice\\s+${notes.client.clientId}\\s+Notes\\s+.*tasks:read offline_access$`));

    const mine = await runCli(['grants', 'list', '--user', 'Alice'], env);
    assert.deepEqual(mine.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0]).sort(), [notes.grantId, diary.grantId].sort());
    const byClient = await runCli(['grants', 'list', '--client', bobs.client.clientId], env);
    assert.deepEqual(byClient.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0]), [bobs.grantId]);
    const none = await runCli(['grants', 'list', '--client', 'no-such-client'], env);
    assert.equal(none.stdout.trimEnd().split('\n').length, 1, 'only the header');

    const unknown = await runCli(['grants', 'list', '--user', 'carol'], env);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.trim(), 'There is no user named carol.');
  });

  it('SEC-34 grants revoke ends the grant: its refresh token at once, its access token at the server within the grant-status bound; audited', async () => {
    const app = await connectApp('Revoked by the operator');
    assert.equal(await mcpStatus(app.tokens.access_token), 200, 'the access token works (and is now cached)');

    const r = await runCli(['grants', 'revoke', app.grantId], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Revoked grant ${app.grantId}.\n`);
    const [event] = auditOf(r.stderr);
    assert.equal(event?.['msg'], 'admin.grant_revoked');
    assert.equal(event?.['actor'], 'cli');
    assert.equal(event?.['grant_id'], app.grantId);
    assert.equal(event?.['client_id'], app.client.clientId);

    assert.equal((await errorOf(await refresh(t, app.client, app.tokens.refresh_token!))).error, 'invalid_grant', 'the refresh token stops at once');
    t.clock.advance(5_001);
    assert.equal(await mcpStatus(app.tokens.access_token), 401, 'another process sees the revocation once its grant-status cache expires (5 s)');

    const again = await runCli(['grants', 'revoke', app.grantId], env);
    assert.equal(again.code, 1);
    assert.equal(again.stderr.trim(), `There is no live grant with id ${app.grantId}.`, 'nothing audited for a no-op');
  });

  it('sessions list and sessions revoke: one session by id, or all of a user\'s with --user', async () => {
    const bob = (await t.storage.users.byUsername('bob'))!;
    const one = await startLoginSession(t.ctx, t.user);
    const two = await startLoginSession(t.ctx, t.user);
    await startLoginSession(t.ctx, bob);

    const list = await runCli(['sessions', 'list', '--user', 'alice'], env);
    assert.equal(list.code, 0, list.stderr);
    const [header, ...lines] = list.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^SESSION ID\s+USER\s+SIGNED IN\s+EXPIRES$/);
    assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]).sort(), [one.session.idHash, two.session.idHash].sort());
    assert.ok(lines.every((l) => l.split(/\s+/)[1] === 'alice'));

    const revoked = await runCli(['sessions', 'revoke', one.session.idHash], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(await t.storage.loginSessions.get(one.session.idHash, t.clock.now()), null);
    assert.ok(await t.storage.loginSessions.get(two.session.idHash, t.clock.now()), 'the other session stays');
    assert.equal(auditOf(revoked.stderr)[0]?.['msg'], 'admin.session_ended');

    const everywhere = await runCli(['sessions', 'revoke', '--user', 'alice'], env);
    assert.equal(everywhere.stdout, 'Ended 1 session of alice.\n');
    assert.equal((await t.storage.loginSessions.list({ now: t.clock.now(), userId: t.user.id })).length, 0);
    assert.equal((await t.storage.loginSessions.list({ now: t.clock.now(), userId: bob.id })).length, 1, "bob's session stays");

    const neither = await runCli(['sessions', 'revoke'], env);
    assert.equal(neither.code, 1);
    assert.match(neither.stderr, /session id .* or --user/);
    const unknown = await runCli(['sessions', 'revoke', 'nope'], env);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.trim(), 'There is no live session with id nope.');
  });

  it('clients list shows each client\'s last use and live grants', async () => {
    const used = await connectApp('Used twice');
    const second = await addCode(t, used.client);
    await redeem(t, used.client, second);
    const { client: unused } = await addClient(t, { clientName: 'Never used' });
    const r = await runCli(['clients', 'list'], env);
    assert.equal(r.code, 0, r.stderr);
    const [header, ...lines] = r.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^CLIENT ID\s+TYPE\s+ADDED BY\s+CREATED\s+LAST USE\s+GRANTS\s+NAME/);
    const row = (id: string) => (lines.find((l) => l.startsWith(id)) ?? '').split(/\s{2,}/);
    assert.match(row(used.client.clientId)[4] ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.equal(row(used.client.clientId)[5], '2');
    assert.equal(row(unused.clientId)[4], 'never');
    assert.equal(row(unused.clientId)[5], '0');
  });

  it('users passwd ends the user\'s sessions and revokes their grants; --keep-sessions keeps them', async () => {
    const app = await connectApp('Before the password change');
    await startLoginSession(t.ctx, t.user);
    const kept = await runCli(['users', 'passwd', 'alice', '--password-stdin', '--keep-sessions'], env, 'another long password\n');
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal((await t.storage.loginSessions.list({ now: t.clock.now(), userId: t.user.id })).length, 1);
    assert.equal((await t.storage.grants.get(app.grantId))?.revokedAt, null);

    const r = await runCli(['users', 'passwd', 'alice', '--password-stdin'], env, 'a third long password\n');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Ended 1 session and revoked \d+ connected apps?\./);
    assert.equal(await verifyPassword('a third long password', (await t.storage.users.byUsername('alice'))!.passwordHash), true);
    assert.equal((await t.storage.loginSessions.list({ now: t.clock.now(), userId: t.user.id })).length, 0);
    assert.equal((await errorOf(await refresh(t, app.client, app.tokens.refresh_token!))).error, 'invalid_grant');
    assert.deepEqual(await t.storage.grants.listLive({ now: t.clock.now(), userId: t.user.id }), []);
    assert.deepEqual(auditOf(r.stderr).map((e) => e['msg']), ['admin.password_changed', 'admin.sessions_ended', 'admin.grants_revoked']);
    assert.ok(!r.stderr.includes('a third long password'), 'the password is in no log line');
  });

  it('users remove asks first: "no" keeps the user, no terminal and no --yes refuses, "yes" removes and ends their tokens', async () => {
    await createUser(t.storage, { username: 'carol', password: 'correct horse battery' }, { now: t.clock.now(), random: t.ctx.random });
    const carol = (await t.storage.users.byUsername('carol'))!;
    const app = await connectApp('Carol app', carol);

    const declined = await runCli(['users', 'remove', 'carol'], env, '', 30_000, ['n']);
    assert.equal(declined.code, 0, declined.stderr);
    assert.match(declined.stderr, /Remove carol and revoke 1 connected app\? This cannot be undone\. \[y\/N\]/);
    assert.equal(declined.stdout, 'Kept carol.\n');
    assert.ok(await t.storage.users.byId(carol.id));

    const unattended = await runCli(['users', 'remove', 'carol'], env);
    assert.equal(unattended.code, 1);
    assert.match(unattended.stderr, /needs confirming: run it in a terminal, or add --yes/);
    assert.ok(await t.storage.users.byId(carol.id), 'nothing changed');

    const confirmed = await runCli(['users', 'remove', 'carol'], env, '', 30_000, ['yes']);
    assert.equal(confirmed.code, 0, confirmed.stderr);
    assert.equal(confirmed.stdout, 'Removed user carol.\n');
    assert.equal(await t.storage.users.byId(carol.id), null);
    assert.equal((await errorOf(await refresh(t, app.client, app.tokens.refresh_token!))).error, 'invalid_grant');
    const [event] = auditOf(confirmed.stderr);
    assert.equal(event?.['msg'], 'admin.user_removed');
    assert.equal(event?.['username'], 'carol');
  });

  it('users admin makes a user an administrator and --remove undoes it, audited', async () => {
    const made = await runCli(['users', 'admin', 'bob'], env);
    assert.equal(made.stdout, 'bob is an administrator.\n');
    assert.equal((await t.storage.users.byUsername('bob'))?.isAdmin, true);
    assert.equal(auditOf(made.stderr)[0]?.['msg'], 'admin.admin_granted');
    const undone = await runCli(['users', 'admin', 'bob', '--remove'], env);
    assert.equal(undone.stdout, 'bob is no longer an administrator.\n');
    assert.equal((await t.storage.users.byUsername('bob'))?.isAdmin, false);
    assert.equal(auditOf(undone.stderr)[0]?.['msg'], 'admin.admin_removed');
  });

  it('users remove in a real process whose standard input is not a terminal refuses without --yes', async () => {
    const r = await spawnCli(['users', 'remove', 'bob'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Removing bob needs confirming: run it in a terminal, or add --yes\./);
    assert.ok(await t.storage.users.byUsername('bob'), 'nothing changed');
  });

  it('users add and clients remove are audit events too', async () => {
    const added = await runCli(['users', 'add', 'dave', '--password-stdin'], env, 'correct horse battery\n');
    assert.equal(auditOf(added.stderr)[0]?.['msg'], 'admin.user_created');
    const app = await connectApp('Removed client');
    const removed = await runCli(['clients', 'remove', app.client.clientId], env);
    assert.equal(removed.code, 0, removed.stderr);
    const [event] = auditOf(removed.stderr);
    assert.equal(event?.['msg'], 'admin.client_removed');
    assert.equal(event?.['grants'], 1);
  });
});
