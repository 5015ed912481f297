import { Kysely, type CompiledQuery, type DatabaseConnection, type QueryResult } from 'kysely';
import type { Migration } from 'kysely/migration';
import { migrations as allMigrations } from '../migrations/index.ts';
import type { D1Database } from './binding.ts';
import { D1Dialect, runBatch, statement } from './dialect.ts';

/** The table Kysely's migrator keeps elsewhere, same name and shape, so every backend records its migrations alike. */
const MIGRATION_TABLE = 'kysely_migration';
const READ = /^\s*(select|with|pragma)\b/i;

const isRead = (query: CompiledQuery): boolean => query.query.kind === 'SelectQueryNode' || (query.query.kind === 'RawNode' && READ.test(query.sql));

/**
 * A Kysely whose reads run on D1 at once and whose writes are only collected, so that a migration's
 * writes can then run as one batch: all of a migration, or none of it. A read inside a migration
 * sees the database as it was before the migration.
 */
function recordingDb(d1: D1Database, writes: CompiledQuery[]): Kysely<any> {
  const connection: DatabaseConnection = {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      if (isRead(query)) return { rows: (await statement(d1, query).all()).results as R[] };
      writes.push(query);
      return { rows: [] };
    },
    streamQuery() {
      throw new Error('D1 does not stream query results');
    },
  };
  return new Kysely<any>({ dialect: new D1Dialect(d1, connection) });
}

async function appliedMigrations(d1: D1Database): Promise<Set<string>> {
  const { results } = await d1.prepare(`select name from ${MIGRATION_TABLE}`).all<{ name: string }>();
  return new Set(results.map((r) => r.name));
}

/** The migrations recorded so far; on a new database, after creating the table that records them. */
async function appliedOrNew(d1: D1Database): Promise<Set<string>> {
  try {
    // A read when the database is up to date: what every start of a Worker isolate costs.
    return await appliedMigrations(d1);
  } catch (error) {
    if (!/no such table/i.test(String(error))) throw error;
    await d1.prepare(`create table if not exists ${MIGRATION_TABLE} (name varchar(255) not null primary key, timestamp varchar(255) not null)`).run();
    return appliedMigrations(d1);
  }
}

/**
 * Brings a D1 database to the latest version through the same migration list as SQLite and
 * PostgreSQL. Kysely's migrator needs a transaction and a lock table, which D1 lacks; here each
 * migration's statements and the row recording it run as one `batch()`, so a migration is applied
 * whole or not at all. Instances migrating at once need no lock: of two batches applying the same
 * migration the second fails (its tables exist, its record's key is taken), and the loser goes on
 * once it sees the migration recorded. Returns the names it applied.
 */
export async function migrateD1(d1: D1Database, migrations: Record<string, Migration> = allMigrations): Promise<string[]> {
  let applied = await appliedOrNew(d1);
  const done: string[] = [];
  for (const name of Object.keys(migrations).sort()) {
    if (applied.has(name)) continue;
    const writes: CompiledQuery[] = [];
    const db = recordingDb(d1, writes);
    await migrations[name]!.up(db);
    const record = db.insertInto(MIGRATION_TABLE).values({ name, timestamp: new Date().toISOString() }).compile();
    try {
      await runBatch(d1, [...writes, record]);
      done.push(name);
    } catch (error) {
      applied = await appliedMigrations(d1);
      if (!applied.has(name)) throw new Error(`D1 migration ${name} failed: ${String(error)}`, { cause: error });
    }
  }
  return done;
}
