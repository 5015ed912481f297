import { createHash } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { KeyRing } from '../../../src/keys/key-encryption.ts';
import { createKyselyStorage, migrate } from '../../../src/storage/sql/kysely-storage.ts';
import type { Database } from '../../../src/storage/sql/tables.ts';
import type { Storage } from '../../../src/storage/types.ts';

/** Kysely's bookkeeping, not the application's state. */
const BOOKKEEPING = new Set(['kysely_migration', 'kysely_migration_lock']);

export interface InspectableStorage {
  storage: Storage;
  /** One digest per table of every row, in a stable order: equal digests, equal state. */
  digest(): Promise<Map<string, string>>;
}

/**
 * An in-memory SQLite store (the production schema and storage code) whose tables a test can read
 * directly, to check that a request changed nothing. Uses Node's SQLite through Kysely's own
 * dialect (no statement cache needed here).
 */
export async function openInspectableStorage(): Promise<InspectableStorage> {
  const raw = new DatabaseSync(':memory:');
  raw.exec('PRAGMA foreign_keys = ON;');
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({
      database: {
        close: () => raw.close(),
        prepare: (text: string) => {
          const statement = raw.prepare(text);
          const params = (p: ReadonlyArray<unknown>) => p.map((v) => (typeof v === 'boolean' ? Number(v) : v)) as never[];
          return {
            reader: statement.columns().length > 0,
            all: (p: ReadonlyArray<unknown>) => statement.all(...params(p)),
            run: (p: ReadonlyArray<unknown>) => statement.run(...params(p)),
            iterate: (p: ReadonlyArray<unknown>) => statement.iterate(...params(p)) as IterableIterator<unknown>,
          };
        },
      },
    }),
  });
  await migrate(db);
  const storage = createKyselyStorage(db, KeyRing.ephemeral());
  return {
    storage,
    async digest() {
      const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db);
      const digests = new Map<string, string>();
      for (const { name } of tables.rows) {
        if (BOOKKEEPING.has(name)) continue;
        const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)} order by rowid`.execute(db);
        digests.set(name, createHash('sha256').update(JSON.stringify(rows.rows)).digest('hex'));
      }
      return digests;
    },
  };
}

/** The tables whose digests differ. */
export function changedTables(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((t) => before.get(t) !== after.get(t));
}
