import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { Kysely, SqliteDialect, type Transaction } from 'kysely';
import { groupCommit } from '../../src/storage/sql/group-commit.ts';
import { kyselySqliteDatabase } from '../../src/storage/sqlite/open.ts';

interface Tables {
  items: { id: string; parent: string | null };
}

const dir = mkdtempSync(join(tmpdir(), 'portcullis-group-commit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('group commit (one SQLite connection)', () => {
  let files = 0;
  let path: string;
  let db: Kysely<Tables>;
  let statements: string[];

  beforeEach(async () => {
    path = join(dir, `group-${++files}.db`);
    const raw = new DatabaseSync(path);
    raw.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;');
    // A deferred foreign key is checked at COMMIT: a way to make the shared COMMIT itself fail.
    raw.exec('CREATE TABLE items (id TEXT PRIMARY KEY, parent TEXT REFERENCES items(id) DEFERRABLE INITIALLY DEFERRED)');
    statements = [];
    db = new Kysely<Tables>({
      dialect: new SqliteDialect({ database: kyselySqliteDatabase(raw) }),
      log: (event) => void statements.push(event.query.sql.toLowerCase()),
    });
  });
  afterEach(async () => {
    await db.destroy();
  });

  const insert = async (trx: Transaction<Tables>, item: { id: string; parent?: string }): Promise<string> => {
    await trx.insertInto('items').values({ id: item.id, parent: item.parent ?? null }).execute();
    return item.id;
  };
  /** What another connection sees: only what was committed. */
  const committed = (): string[] => {
    const other = new DatabaseSync(path);
    try {
      return (other.prepare('SELECT id FROM items ORDER BY id').all() as { id: string }[]).map((r) => r.id);
    } finally {
      other.close();
    }
  };

  it('writes started in one event-loop turn share one transaction, each in its own savepoint, and settle after the COMMIT', async () => {
    const write = groupCommit(db, insert);
    const results = await Promise.all(['a', 'b', 'c'].map((id) => write({ id })));
    assert.deepEqual(results, ['a', 'b', 'c']);
    assert.equal(statements.filter((s) => s === 'begin').length, 1);
    assert.equal(statements.filter((s) => s === 'commit').length, 1);
    assert.equal(statements.filter((s) => s.startsWith('savepoint')).length, 3);
    assert.deepEqual(committed(), ['a', 'b', 'c'], 'durable (visible to another connection) when the promises settle');
  });

  it('a write that arrives in a later turn gets a transaction of its own, without a savepoint', async () => {
    const write = groupCommit(db, insert);
    await write({ id: 'a' });
    await write({ id: 'b' });
    assert.equal(statements.filter((s) => s === 'begin').length, 2);
    assert.equal(statements.filter((s) => s.startsWith('savepoint')).length, 0);
    assert.deepEqual(committed(), ['a', 'b']);
  });

  it('a write that fails is rolled back alone: its caller gets the error, the others commit', async () => {
    const write = groupCommit(db, async (trx: Transaction<Tables>, item: { id: string; failAfterInsert?: boolean }) => {
      await insert(trx, item);
      if (item.failAfterInsert) throw new Error(`write ${item.id} failed`);
      return item.id;
    });
    const settled = await Promise.allSettled([write({ id: 'a' }), write({ id: 'b', failAfterInsert: true }), write({ id: 'c' })]);
    assert.deepEqual(
      settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)),
      ['a', 'write b failed', 'c'],
    );
    assert.deepEqual(committed(), ['a', 'c'], "b's own row was undone with it");
  });

  it('when the shared COMMIT fails, every caller of the batch gets the error and nothing of it is stored', async () => {
    const write = groupCommit(db, insert);
    const settled = await Promise.allSettled([write({ id: 'a' }), write({ id: 'b', parent: 'missing' }), write({ id: 'c' })]);
    assert.deepEqual(
      settled.map((s) => s.status),
      ['rejected', 'rejected', 'rejected'],
    );
    assert.match(String((settled[0] as PromiseRejectedResult).reason), /FOREIGN KEY/i);
    assert.deepEqual(committed(), []);
    // The connection is usable again afterwards.
    assert.equal(await write({ id: 'd' }), 'd');
    assert.deepEqual(committed(), ['d']);
  });

  it('writes queued while a batch runs form the next batch; drain waits for all of them', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const write = groupCommit(db, async (trx: Transaction<Tables>, item: { id: string; wait?: boolean }) => {
      if (item.wait) await gate;
      return insert(trx, item);
    });
    const first = write({ id: 'a', wait: true });
    await new Promise((resolve) => setImmediate(resolve));
    // The first batch is open (waiting inside its write); these queue behind it.
    const later = [write({ id: 'b' }), write({ id: 'c' })];
    const drained = write.drain();
    release();
    await drained;
    assert.deepEqual(await Promise.all([first, ...later]), ['a', 'b', 'c']);
    assert.equal(statements.filter((s) => s === 'begin').length, 2);
    assert.deepEqual(committed(), ['a', 'b', 'c']);
  });
});
