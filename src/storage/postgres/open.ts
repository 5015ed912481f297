import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createKyselyStorage, migrate } from '../sql/kysely-storage.ts';
import type { Database } from '../sql/tables.ts';
import type { Storage } from '../types.ts';

// int8 columns hold epoch milliseconds, well inside Number's exact range: read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface PostgresOptions {
  /** Use this schema (created if missing) instead of the connection's default search path. */
  schema?: string;
  maxConnections?: number;
}

/** Opens a pooled PostgreSQL store and migrates it. Many instances can share one database. */
export async function openPostgresStorage(connectionString: string, options: PostgresOptions = {}): Promise<Storage> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid PostgreSQL schema name: ${schema}`);
  // The search path is set at connection start-up, so every pooled connection sees the same schema.
  const pool = new pg.Pool({ connectionString, max: options.maxConnections ?? 10, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  if (schema) await pool.query(`create schema if not exists ${schema}`);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrate(db, schema);
  return createKyselyStorage(db);
}
