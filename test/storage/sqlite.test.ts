import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { describeStorageContract } from './contract.ts';

describeStorageContract('sqlite (in memory)', () => openSqliteStorage(':memory:'));

const dir = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
describeStorageContract('sqlite (file, WAL)', () => openSqliteStorage(join(dir, 'contract.db')));

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
});
