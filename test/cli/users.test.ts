import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyPassword } from '../../src/identity/passwords.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { runCli, tempDatabase } from './helpers.ts';

describe('portcullis users', () => {
  const db = tempDatabase();
  const env = { PORTCULLIS_DATABASE: db.database };
  after(() => db.cleanup());

  async function storedUser(name: string) {
    const storage = await openSqliteStorage(db.database);
    try {
      return await storage.users.byUsername(name);
    } finally {
      await storage.close();
    }
  }

  it('users add prints a generated password once and stores only its scrypt hash', async () => {
    const r = await runCli(['users', 'add', 'Alice'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Created user alice\./);
    const password = /password\s+(\S+)/.exec(r.stdout)?.[1];
    assert.ok(password, r.stdout);
    assert.match(r.stdout, /shown only this once/);
    const user = await storedUser('alice');
    assert.ok(user);
    assert.equal(user.isAdmin, false);
    assert.match(user.passwordHash, /^scrypt\$/);
    assert.ok(!user.passwordHash.includes(password));
    assert.equal(await verifyPassword(password, user.passwordHash), true);
  });

  it('users add --password-stdin --admin takes the password from standard input and prints none', async () => {
    const r = await runCli(['users', 'add', 'bob', '--admin', '--password-stdin'], env, 'correct horse battery\n');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Created administrator bob\./);
    assert.doesNotMatch(r.stdout, /password/);
    const user = await storedUser('bob');
    assert.equal(user?.isAdmin, true);
    assert.equal(await verifyPassword('correct horse battery', user.passwordHash), true);
  });

  it('a known error (duplicate user, short password) prints only its message and exits 1, changing nothing', async () => {
    const dup = await runCli(['users', 'add', 'alice'], env);
    assert.equal(dup.code, 1);
    assert.equal(dup.stderr.trim(), 'The user alice exists already');
    assert.equal(dup.stdout, '');
    const short = await runCli(['users', 'add', 'carol', '--password-stdin'], env, 'short\n');
    assert.equal(short.code, 1);
    assert.doesNotMatch(short.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(await storedUser('carol'), null);
  });

  it('users list shows every account with its role', async () => {
    const r = await runCli(['users', 'list'], env);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^USERNAME\s+ROLE\s+CREATED\s+GROUPS$/);
    assert.ok(lines.some((l) => /^alice\s+user\s/.test(l)));
    assert.ok(lines.some((l) => /^bob\s+admin\s/.test(l)));
  });

  it('users add --group and users groups set the groups tool policy rules name; a bad group name changes nothing', async () => {
    const added = await runCli(['users', 'add', 'dave', '--group', 'ops', '--group', 'admins'], env);
    assert.equal(added.code, 0, added.stderr);
    const groupsOf = async (name: string) => {
      const storage = await openSqliteStorage(db.database);
      try {
        return await storage.users.groups((await storage.users.byUsername(name))!.id);
      } finally {
        await storage.close();
      }
    };
    assert.deepEqual(await groupsOf('dave'), ['admins', 'ops']);
    assert.ok((await runCli(['users', 'list'], env)).stdout.split('\n').some((l) => /^dave\s+user\s+\S+\s+admins,ops$/.test(l)));
    const set = await runCli(['users', 'groups', 'dave', '--group', 'staff'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /dave is now in staff/);
    assert.deepEqual(await groupsOf('dave'), ['staff']);
    const bad = await runCli(['users', 'groups', 'dave', '--group', 'has space'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /group name/);
    assert.deepEqual(await groupsOf('dave'), ['staff'], 'unchanged');
    assert.equal((await runCli(['users', 'groups', 'nobody', '--group', 'x'], env)).code, 1);
    assert.equal((await runCli(['users', 'groups', 'dave'], env)).code, 0);
    assert.deepEqual(await groupsOf('dave'), []);
  });

  it('users passwd replaces the password', async () => {
    const r = await runCli(['users', 'passwd', 'alice', '--password-stdin'], env, 'a brand new password\n');
    assert.equal(r.code, 0, r.stderr);
    const user = await storedUser('alice');
    assert.equal(await verifyPassword('a brand new password', user!.passwordHash), true);
  });

  it('users remove deletes the account; removing an unknown name exits 1', async () => {
    const r = await runCli(['users', 'remove', 'alice', '--yes'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await storedUser('alice'), null);
    const again = await runCli(['users', 'remove', 'alice', '--yes'], env);
    assert.equal(again.code, 1);
    assert.equal(again.stderr.trim(), 'There is no user named alice.');
  });

  it('missing arguments print the usage and exit 1', async () => {
    const r = await runCli(['users', 'add'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Usage: .* users add <name>/);
  });
});

describe('portcullis users against an in-memory database', () => {
  let r: Awaited<ReturnType<typeof runCli>>;
  before(async () => {
    r = await runCli(['users', 'add', 'x'], { PORTCULLIS_DATABASE: ':memory:' });
  });
  it('refuses to work on :memory: (it would change nothing)', () => {
    assert.equal(r.code, 1);
    assert.match(r.stderr, /:memory:/);
  });
});
