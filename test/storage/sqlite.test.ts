import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { describeStorageContract } from './contract.ts';
import { describeGrowthContract } from './contract-growth.ts';

describeStorageContract('sqlite (in memory)', () => openSqliteStorage(':memory:'));

const dir = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let sharedFiles = 0;
describeStorageContract('sqlite (file, WAL)', () => openSqliteStorage(join(dir, 'contract.db')), {
  async fresh() {
    const path = join(dir, `shared-${++sharedFiles}.db`);
    // Created and migrated first: SQLite migrations take no lock across processes (PostgreSQL's do).
    await (await openSqliteStorage(path)).close();
    return () => openSqliteStorage(path);
  },
});
describeGrowthContract('sqlite (file, WAL)', () => openSqliteStorage(join(dir, 'growth.db')));

describe('sqlite file storage', () => {
  it('keeps data across close and reopen (nothing is lost on restart)', async () => {
    const path = join(dir, 'restart.db');
    const first = await openSqliteStorage(path);
    await first.users.create({ id: 'u1', username: 'persist', passwordHash: 'h', isAdmin: false, createdAt: 1 });
    await first.close();
    const second = await openSqliteStorage(path);
    assert.equal((await second.users.byUsername('persist'))?.id, 'u1');
    await second.close();
  });

  it('HARD-8 the WAL is checkpointed every 1000 pages, so one checkpoint never holds the event loop long (bench/README.md)', async () => {
    const path = join(dir, 'checkpoint.db');
    const storage = await openSqliteStorage(path);
    try {
      // Each commit appends at least one 4 KiB page: 2000 commits pass the threshold of 1000 pages, after
      // which the WAL is reused from its start and stays near 4 MB (with 4000 pages it would reach ~2000).
      for (let i = 0; i < 2000; i++) await storage.users.create({ id: `u${i}`, username: `user${i}`, passwordHash: 'h', isAdmin: false, createdAt: i });
      const walPages = statSync(`${path}-wal`).size / 4096;
      assert.ok(walPages > 500 && walPages < 1500, `the WAL holds ${walPages.toFixed(0)} pages`);
    } finally {
      await storage.close();
    }
  });
});
