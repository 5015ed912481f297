import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { KEK_SETTING, KeyEncryptionError } from '../../keys/key-encryption.ts';
import type { KeyRingSource } from '../../keys/key-ring-source.ts';
import { createKyselyStorage, migrate } from '../sql/kysely-storage.ts';
import { prepareSealedSecrets } from '../sql/sealed-secrets.ts';
import type { Database } from '../sql/tables.ts';
import type { Storage } from '../types.ts';

// int8 columns hold epoch milliseconds, well inside Number's exact range: read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface PostgresOptions {
  /** Use this schema (created if missing) instead of the connection's default search path. */
  schema?: string;
  maxConnections?: number;
  /** The key-encryption key of the server's secrets, the same for every instance. Required. */
  keyRing?: KeyRingSource;
}

/** Opens a pooled PostgreSQL store and migrates it. Many instances can share one database. */
export async function openPostgresStorage(connectionString: string, options: PostgresOptions = {}): Promise<Storage> {
  const schema = options.schema;
  if (!options.keyRing) throw new KeyEncryptionError(`A PostgreSQL database needs a key-encryption key shared by every instance: set ${KEK_SETTING}`);
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid PostgreSQL schema name: ${schema}`);
  // The search path is set at connection start-up, so every pooled connection sees the same schema.
  const pool = new pg.Pool({ connectionString, max: options.maxConnections ?? 10, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  // An idle connection the server drops (a restart, a failover, an administrator's terminate) is an
  // 'error' event on the pool; unheard, it would end the process. The pool discards that connection
  // and the next query opens another; queries in flight get their own errors.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    if (schema) await createSchema(pool, schema);
    await migrate(db, schema);
    return createKyselyStorage(db, await prepareSealedSecrets(db, options.keyRing));
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

/** `create schema if not exists` is not safe against itself: instances starting together may collide; one wins. */
async function createSchema(pool: pg.Pool, schema: string): Promise<void> {
  try {
    await pool.query(`create schema if not exists ${schema}`);
  } catch (error) {
    const exists = await pool.query('select 1 from pg_namespace where nspname = $1', [schema]);
    if (exists.rowCount === 0) throw error;
  }
}
