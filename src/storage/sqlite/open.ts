import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { KeyRing } from '../../keys/key-encryption.ts';
import { defaultKeyFileSource, type KeyRingSource } from '../../keys/key-ring-source.ts';
import type { Storage } from '../types.ts';
import { createKyselyStorage, migrate } from '../sql/kysely-storage.ts';
import { prepareSealedSecrets } from '../sql/sealed-secrets.ts';
import type { Database } from '../sql/tables.ts';

const READER = /^\s*(select|with|pragma|values|explain)\b|\breturning\b/i;

/**
 * Prepared statements kept per SQL text. Kysely asks for a statement on every query, and compiling
 * SQL costs more than running a primary-key lookup (bench/README.md: ~12 µs of ~25 µs per query);
 * the storage issues a few dozen distinct statements, so nearly every query is a cache hit.
 */
const STATEMENT_CACHE_SIZE = 256;

const params = (p: ReadonlyArray<unknown>) => p.map((v) => (typeof v === 'boolean' ? Number(v) : v)) as never[];

/** Node's built-in SQLite speaks a slightly different API from the one Kysely expects; bridge it. */
export function kyselySqliteDatabase(db: DatabaseSync): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => db.close(),
    prepare(sqlText: string): SqliteStatement {
      const cached = statements.get(sqlText);
      if (cached) return cached;
      const stmt: StatementSync = db.prepare(sqlText);
      const statement: SqliteStatement = {
        reader: typeof stmt.columns === 'function' ? stmt.columns().length > 0 : READER.test(sqlText),
        all: (p) => stmt.all(...params(p)),
        run: (p) => stmt.run(...params(p)),
        iterate: (p) => stmt.iterate(...params(p)) as IterableIterator<unknown>,
      };
      // Kysely runs one query at a time on this single connection, so a statement is never in use twice.
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      statements.set(sqlText, statement);
      return statement;
    },
  };
}

export interface SqliteOptions {
  /**
   * The key-encryption key of the server's secrets. Default: `<path>.key` next to the file, created
   * on first start (src/keys/key-ring-source.ts); for `:memory:` a key that lives in this process.
   */
  keyRing?: KeyRingSource;
}

/** Opens (creating if needed) a SQLite database file in WAL mode, migrates it and checks its key-encryption key. */
export async function openSqliteStorage(path: string, options: SqliteOptions = {}): Promise<Storage> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const raw = new DatabaseSync(path);
  raw.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
  // Checkpoints run on the event loop inside whichever commit crosses the threshold, so their size
  // bounds what a request can wait for. SQLite's default of 1000 pages keeps the longest one near 15-25 ms
  // of CPU even while the expiry sweep deletes 500,000 rows (HARD-8: no request waits > 50 ms, bench
  // `sweep`); 4000 pages saved a few percent of refresh CPU but let a sweep's commit hold the loop ~76 ms.
  raw.exec('PRAGMA wal_autocheckpoint = 1000;');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: kyselySqliteDatabase(raw) }) });
  try {
    await migrate(db);
    const keyRing = await prepareSealedSecrets(db, options.keyRing ?? (path === ':memory:' ? KeyRing.ephemeral() : defaultKeyFileSource(path)));
    // One connection: rotations of one event-loop turn share a transaction (group commit).
    return createKyselyStorage(db, keyRing, { groupCommit: true });
  } catch (error) {
    await db.destroy();
    throw error;
  }
}
