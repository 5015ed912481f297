import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KeyStore } from '../../src/keys/keystore.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { systemClock } from '../../src/util/clock.ts';
import { runCli, tempDatabase } from './helpers.ts';

describe('portcullis keys', () => {
  const db = tempDatabase();
  const env = { PORTCULLIS_DATABASE: db.database, PORTCULLIS_ACCESS_TOKEN_TTL: '600' };
  after(() => db.cleanup());

  /** What a server starting on this database publishes and signs with. */
  async function published(): Promise<{ kids: string[]; active: string; algs: string[] }> {
    const storage = await openSqliteStorage(db.database);
    try {
      const keys = await KeyStore.open(storage, systemClock, 'ES256');
      return { kids: keys.jwks().keys.map((k) => k.kid!), algs: keys.jwks().keys.map((k) => k.alg!), active: keys.activeKid };
    } finally {
      await storage.close();
    }
  }

  it('keys list on a fresh database says there are none yet', async () => {
    const r = await runCli(['keys', 'list'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No signing keys yet/);
  });

  it('SEC-54 keys rotate makes a new active key and keeps the old one published past the access token lifetime', async () => {
    const before = await published();
    const r = await runCli(['keys', 'rotate'], env);
    assert.equal(r.code, 0, r.stderr);
    const after = await published();
    assert.notEqual(after.active, before.active);
    assert.ok(after.kids.includes(before.active), 'the old key is still in the JWKS');
    assert.ok(after.kids.includes(after.active));

    const storage = await openSqliteStorage(db.database);
    try {
      const old = (await storage.signingKeys.list()).find((k) => k.kid === before.active);
      assert.ok(old?.retiredAt && old.publishUntil);
      // At least the access token lifetime (600 s) after retirement.
      assert.ok(old.publishUntil - old.retiredAt >= 600_000, `overlap ${old.publishUntil - old.retiredAt} ms`);
    } finally {
      await storage.close();
    }
  });

  it('keys rotate --alg RS256 switches algorithm; keys list shows active and retired keys', async () => {
    const r = await runCli(['keys', 'rotate', '--alg', 'RS256'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\(RS256\) is active/);
    assert.match(r.stdout, /PORTCULLIS_SIGNING_ALG is ES256/);
    const now = await published();
    assert.ok(now.algs.includes('RS256'));

    const list = await runCli(['keys', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout.trim().split('\n').slice(1);
    assert.equal(rows.length, 3);
    assert.equal(rows.filter((l) => /\sactive$/.test(l)).length, 1);
    assert.match(rows.find((l) => /\sactive$/.test(l)) ?? '', /RS256/);
    assert.equal(rows.filter((l) => /retired, published until/.test(l)).length, 2);
  });

  it('keys rotate --alg with an unknown algorithm exits 1 and changes nothing', async () => {
    const before = await published();
    const r = await runCli(['keys', 'rotate', '--alg', 'HS256'], env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), '--alg must be ES256 or RS256.');
    assert.deepEqual(await published(), before);
  });
});
