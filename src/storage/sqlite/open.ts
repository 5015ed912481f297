import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { Storage } from '../types.ts';
import { createKyselyStorage, migrate } from '../sql/kysely-storage.ts';
import type { Database } from '../sql/tables.ts';

const READER = /^\s*(select|with|pragma|values|explain)\b|\breturning\b/i;

/** Node's built-in SQLite speaks a slightly different API from the one Kysely expects; bridge it. */
function adapt(db: DatabaseSync): SqliteDatabase {
  return {
    close: () => db.close(),
    prepare(sqlText: string): SqliteStatement {
      const stmt: StatementSync = db.prepare(sqlText);
      const params = (p: ReadonlyArray<unknown>) => p.map((v) => (typeof v === 'boolean' ? Number(v) : v)) as never[];
      return {
        reader: typeof stmt.columns === 'function' ? stmt.columns().length > 0 : READER.test(sqlText),
        all: (p) => stmt.all(...params(p)),
        run: (p) => stmt.run(...params(p)),
        iterate: (p) => stmt.iterate(...params(p)) as IterableIterator<unknown>,
      };
    },
  };
}

/** Opens (creating if needed) a SQLite database file in WAL mode and migrates it. */
export async function openSqliteStorage(path: string): Promise<Storage> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const raw = new DatabaseSync(path);
  raw.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: adapt(raw) }) });
  await migrate(db);
  return createKyselyStorage(db);
}
