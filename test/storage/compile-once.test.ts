import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import { compileOnce } from '../../src/storage/sql/compile-once.ts';

interface Db {
  tokens: { hash: string; owner: string; expires_at: number; used_at: number | null };
}

function database(): Kysely<Db> {
  const raw = new DatabaseSync(':memory:');
  raw.exec('create table tokens (hash text primary key, owner text not null, expires_at integer not null, used_at integer)');
  const sqlite: SqliteDatabase = {
    close: () => raw.close(),
    prepare: (text) => {
      const stmt = raw.prepare(text);
      return { reader: stmt.columns().length > 0, all: (p) => stmt.all(...(p as never[])), run: (p) => stmt.run(...(p as never[])), iterate: (p) => stmt.iterate(...(p as never[])) };
    },
  };
  return new Kysely<Db>({ dialect: new SqliteDialect({ database: sqlite }) });
}

describe('compileOnce: a query compiled once and run with new values', () => {
  it('puts each argument where the builder used it, repeated arguments and constants included', async () => {
    const db = database();
    const insert = compileOnce((hash: string, owner: string, expiresAt: number) => db.insertInto('tokens').values({ hash, owner, expires_at: expiresAt, used_at: null }));
    // `now` is used twice; `used_at is null` is part of the query's shape.
    const use = compileOnce((hash: string, now: number) =>
      db.updateTable('tokens').set({ used_at: now }).where('hash', '=', hash).where('used_at', 'is', null).where('expires_at', '>', now).returningAll(),
    );
    await insert(db, 'a', 'alice', 100);
    await insert(db, 'b', 'bob', 10);
    // node:sqlite rows have a null prototype: compare their fields.
    assert.deepEqual((await use(db, 'a', 50)).rows.map((r) => ({ ...r })), [{ hash: 'a', owner: 'alice', expires_at: 100, used_at: 50 }]);
    assert.deepEqual((await use(db, 'a', 60)).rows, [], 'single use: the first update won');
    assert.deepEqual((await use(db, 'b', 50)).rows, [], 'expired');
    await db.transaction().execute(async (trx) => {
      await insert(trx, 'c', 'carol', 100);
    });
    assert.equal((await db.selectFrom('tokens').selectAll().where('hash', '=', 'c').executeTakeFirst())?.owner, 'carol', 'runs inside a transaction too');
    await db.destroy();
  });

  it('gives the compiled query with its values, to run in a batch (D1)', async () => {
    const db = database();
    const use = compileOnce((hash: string, now: number) => db.updateTable('tokens').set({ used_at: now }).where('hash', '=', hash).where('expires_at', '>', now));
    const query = use.query('a', 50);
    assert.equal(query.sql, 'update "tokens" set "used_at" = ? where "hash" = ? and "expires_at" > ?');
    assert.deepEqual(query.parameters, [50, 'a', 50]);
    assert.deepEqual(use.query('b', 7).parameters, [7, 'b', 7], 'each call has its own values');
    await db.destroy();
  });

  it('refuses a builder that does not use an argument as a value', async () => {
    const db = database();
    assert.throws(() => compileOnce((_limit: number) => db.selectFrom('tokens').selectAll().limit(10)), /every argument must become a parameter/);
    await db.destroy();
  });
});
