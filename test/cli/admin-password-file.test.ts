import assert from 'node:assert/strict';
import { lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ensureFirstAdmin } from '../../src/bootstrap/first-admin.ts';
import { renderStartupBanner } from '../../src/bootstrap/banner.ts';
import { loadConfigInput } from '../../src/config/env.ts';
import { ConfigError, resolveConfig } from '../../src/config/resolve.ts';
import { verifyPassword } from '../../src/identity/passwords.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { systemRandom } from '../../src/util/crypto.ts';
import { startServer, tempDatabase } from './helpers.ts';

/**
 * HARD-11: the first administrator's password printed on stdout ends up in whatever keeps stdout
 * (journald, `docker logs`). An operator can have it written to a file only their user can read.
 */

const deps = { clock: new ManualClock(), random: systemRandom };
const mode = (path: string) => statSync(path).mode & 0o777;

describe('HARD-11 first administrator password in a file', () => {
  const tmp = tempDatabase();
  after(() => tmp.cleanup());

  it('HARD-11 writes the password to the file (0600, new folder 0700) and returns only its absolute path', async () => {
    const storage = await openSqliteStorage(':memory:');
    try {
      const file = join(tmp.dir, 'secrets', 'admin-password');
      const admin = await ensureFirstAdmin(storage, deps, { passwordFile: file });
      assert.deepEqual(admin, { username: 'admin', passwordFile: file });
      assert.equal(mode(file), 0o600);
      assert.equal(mode(join(tmp.dir, 'secrets')), 0o700);
      const password = readFileSync(file, 'utf8').trim();
      const stored = await storage.users.byUsername('admin');
      assert.equal(await verifyPassword(password, stored!.passwordHash), true);
    } finally {
      await storage.close();
    }
  });

  it('HARD-11 a symlink planted at the path is replaced, never followed', async () => {
    const storage = await openSqliteStorage(':memory:');
    try {
      const target = join(tmp.dir, 'victim');
      writeFileSync(target, 'untouched');
      const file = join(tmp.dir, 'link');
      symlinkSync(target, file);
      await ensureFirstAdmin(storage, deps, { passwordFile: file });
      assert.equal(readFileSync(target, 'utf8'), 'untouched');
      assert.equal(lstatSync(file).isSymbolicLink(), false);
      assert.equal(mode(file), 0o600);
    } finally {
      await storage.close();
    }
  });

  it('HARD-11 a path that cannot be written stops the start with a message naming it, and leaves no administrator behind', async () => {
    const storage = await openSqliteStorage(':memory:');
    try {
      const notAFolder = join(tmp.dir, 'plain-file');
      writeFileSync(notAFolder, '');
      await assert.rejects(ensureFirstAdmin(storage, deps, { passwordFile: join(notAFolder, 'pw') }), (e: unknown) => e instanceof ConfigError && e.message.includes(join(notAFolder, 'pw')));
      assert.equal(await storage.users.count(), 0, 'no account whose password reached no one');
      assert.ok(await ensureFirstAdmin(storage, deps, { passwordFile: join(tmp.dir, 'retry') }), 'the next start tries again');
    } finally {
      await storage.close();
    }
  });

  it('HARD-11 PORTCULLIS_INITIAL_ADMIN_PASSWORD_FILE sets it; the banner names the file, never the password', () => {
    const config = resolveConfig(loadConfigInput({ PORTCULLIS_INITIAL_ADMIN_PASSWORD_FILE: '/srv/pw' }, undefined));
    assert.equal(config.initialAdminPasswordFile, '/srv/pw');
    const text = renderStartupBanner({ config, listening: '127.0.0.1:3000', firstAdmin: { username: 'admin', passwordFile: '/srv/pw' }, cli: 'portcullis' });
    assert.match(text, /password {3}in \/srv\/pw \(readable only by this user\)/);
  });

  it('HARD-11 printed on stdout, the banner says a service manager\'s log may keep it and how to avoid that', () => {
    const text = renderStartupBanner({ config: resolveConfig({}), listening: '127.0.0.1:3000', firstAdmin: { username: 'admin', password: 'aaaaa-bbbbb-ccccc-ddddd' }, cli: 'portcullis' });
    assert.match(text, /password {3}aaaaa-bbbbb-ccccc-ddddd\n/);
    assert.match(text, /journald, docker logs/);
    assert.match(text, /PORTCULLIS_INITIAL_ADMIN_PASSWORD_FILE/);
  });

  it('HARD-11 `portcullis start --admin-password-file`: the password is in the file and nowhere in the output', async () => {
    const db = tempDatabase();
    const file = join(db.dir, 'admin-password');
    const server = await startServer({ PORT: '0', PORTCULLIS_DATABASE: db.database }, /Listening on.*\n[\s\S]*More commands/, 30_000, ['--admin-password-file', file]);
    try {
      const password = readFileSync(file, 'utf8').trim();
      assert.equal(mode(file), 0o600);
      assert.ok(server.stdout().includes(`in ${file} (readable only by this user)`), server.stdout());
      server.child.kill('SIGTERM');
      assert.equal(await server.exited(), 0);
      assert.ok(!server.stdout().includes(password) && !server.stderr().includes(password), 'not printed, not logged');
      const storage = await openSqliteStorage(db.database);
      try {
        assert.equal(await verifyPassword(password, (await storage.users.byUsername('admin'))!.passwordHash), true);
      } finally {
        await storage.close();
      }
    } finally {
      server.child.kill('SIGKILL');
      db.cleanup();
    }
  });
});
