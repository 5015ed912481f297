import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { openDatabase } from '../../src/bootstrap/open-database.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { createPortcullis } from '../../src/portcullis.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { grantRecord } from '../helpers/records.ts';
import { runCli, tempDatabase } from './helpers.ts';

/** Issue 12 part 8: `portcullis backup <file>`, an online backup of the SQLite file through node:sqlite. */
describe('portcullis backup', () => {
  const db = tempDatabase();
  const env = { PORTCULLIS_DATABASE: db.database };
  after(() => db.cleanup());

  it('copies a database a running server keeps writing to: the copy is consistent, 0600, and restores with the key file (not in it)', async () => {
    const config = resolveConfig({ database: db.database, publicUrl: 'http://localhost:3000' });
    const running = await createPortcullis({ config, logger: silentLogger });
    const { storage } = running.ctx;
    await storage.users.create({ id: 'u-1', username: 'alice', passwordHash: 'scrypt$x', isAdmin: true, createdAt: Date.now() });
    for (let i = 0; i < 2000; i++) await storage.grants.create(grantRecord({ id: `g-${i}`, userId: 'u-1', clientId: 'c', scopes: ['tasks:read'], resource: 'x' }));
    // And some megabytes (a thousand-odd pages), far more than one step of SQLite's default backup pace.
    const filler = new DatabaseSync(db.database);
    filler.exec('begin');
    const task = filler.prepare('insert into tasks (id, user_id, title, done, created_at, completed_at) values (?, ?, ?, 0, 0, null)');
    for (let i = 0; i < 2000; i++) task.run(`t-${i}`, 'u-1', 'x'.repeat(2000));
    filler.exec('commit');
    filler.close();
    // The server keeps writing, without pause, until the backup is done: a backup copied in small
    // steps restarts at each write and would never finish (the writer's own 20 s bound would end it).
    let writing = true;
    let written = 0;
    const startedWriting = Date.now();
    const writer = (async () => {
      while (writing && Date.now() - startedWriting < 20_000) {
        await storage.grants.create(grantRecord({ id: `w-${written++}`, userId: 'u-1', clientId: 'c', scopes: ['tasks:read'], resource: 'x' }));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();

    const file = join(db.dir, 'backup.db');
    const r = await runCli(['backup', file], env);
    const stillWriting = writing && Date.now() - startedWriting < 20_000;
    writing = false;
    await writer;
    await running.close();
    assert.equal(r.code, 0, r.stderr);
    assert.ok(stillWriting, 'the backup finished while the server was still writing');
    assert.ok(written > 0, 'the server wrote while the backup ran');
    assert.match(r.stdout, /^Backed up .*portcullis\.db to .*backup\.db \(\d+ pages, integrity checked\)\./);
    assert.match(r.stdout, /The key-encryption key is NOT in the backup: keep a copy of .*portcullis\.db\.key apart from it\./);
    assert.equal(statSync(file).mode & 0o777, 0o600, 'readable only by its owner');
    assert.deepEqual(readdirSync(db.dir).filter((n) => n.includes('partial')), [], 'no partial file left behind');
    assert.equal(JSON.parse(r.stderr.trim().split('\n').at(-1) ?? '{}').msg, 'admin.backup');

    const copy = new DatabaseSync(file, { readOnly: true });
    try {
      assert.deepEqual(copy.prepare('PRAGMA integrity_check').all().map((row) => ({ ...row })), [{ integrity_check: 'ok' }]);
      const grants = Number((copy.prepare('select count(*) as n from grants').get() as { n: number }).n);
      assert.ok(grants >= 2000 && grants <= 2000 + written, `a snapshot: ${grants} grants`);
      const sealed = copy.prepare('select private_jwk from signing_keys').all() as { private_jwk: string }[];
      assert.ok(sealed.length > 0 && sealed.every((k) => !k.private_jwk.includes('"d"')), 'signing keys are in it, encrypted');
    } finally {
      copy.close();
    }

    // Restored without its key file it is refused, naming the file; with it the server starts on it.
    const restored = join(db.dir, 'restored', 'portcullis.db');
    mkdirSync(join(db.dir, 'restored'));
    copyFileSync(file, restored);
    await assert.rejects(openDatabase(resolveConfig({ database: restored })), /its key file .*restored\/portcullis\.db\.key is missing/);
    copyFileSync(`${db.database}.key`, `${restored}.key`);
    const back = await createPortcullis({ config: resolveConfig({ database: restored, publicUrl: 'http://localhost:3000' }), logger: silentLogger });
    try {
      assert.equal((await back.ctx.storage.users.byUsername('alice'))?.isAdmin, true);
      const jwks = await (await back.app.fetch(new Request('http://localhost:3000/jwks'))).json() as { keys: unknown[] };
      assert.ok(jwks.keys.length > 0, 'the signing keys decrypt with the key file');
    } finally {
      await back.close();
    }
  });

  it('refuses to overwrite a file unless --force, and refuses PostgreSQL and :memory:', async () => {
    const file = join(db.dir, 'exists.db');
    writeFileSync(file, 'keep me');
    const refused = await runCli(['backup', file], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /exists already: choose another name, or add --force/);
    assert.equal(readFileSync(file, 'utf8'), 'keep me');
    const forced = await runCli(['backup', file, '--force'], env);
    assert.equal(forced.code, 0, forced.stderr);

    const pg = await runCli(['backup', join(db.dir, 'x.db')], { PORTCULLIS_DATABASE: 'postgres://postgres@127.0.0.1:5432/test', PORTCULLIS_KEY_ENCRYPTION_KEY: 'a'.repeat(43) });
    assert.equal(pg.code, 1);
    assert.match(pg.stderr, /pg_dump/);
    assert.equal(existsSync(join(db.dir, 'x.db')), false);
    const memory = await runCli(['backup', join(db.dir, 'x.db')], { PORTCULLIS_DATABASE: ':memory:' });
    assert.equal(memory.code, 1);
    assert.match(memory.stderr, /no database file to back up/);
  });
});
