import { ConfigError, type ResolvedConfig } from '../config/resolve.ts';
import { keyRingSource } from '../keys/key-ring-source.ts';
import { openStorage } from '../storage/open.ts';
import type { Storage } from '../storage/types.ts';
import { describeDatabase } from './banner.ts';

type DatabaseSettings = Pick<ResolvedConfig, 'database' | 'keyEncryptionKey' | 'keyEncryptionKeyFile' | 'previousKeyEncryptionKeys'>;

/**
 * Opens the configured database for the server or a CLI command, with its key-encryption key.
 * Failing to open it is nearly always a setting or a permission (a folder that cannot be created, a
 * file locked by something else, a PostgreSQL server that does not answer, a missing or wrong key), so
 * it is reported as one line naming the database or the key's setting.
 */
export async function openDatabase(config: DatabaseSettings): Promise<Storage> {
  const keyRing = keyRingSource(config);
  try {
    return await openStorage(config.database, keyRing);
  } catch (error) {
    // Key-encryption problems name their own setting.
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`Cannot open the database ${describeDatabase(config.database)} (PORTCULLIS_DATABASE): ${reasonOf(error)}${hintFor(error)}`);
  }
}

/**
 * Refuses a database that opens but takes no writes (a read-only file or mount, a PostgreSQL standby,
 * a user without write grants): otherwise the server would report ready and fail at the first sign-in.
 */
export async function assertWritable(storage: Storage, config: Pick<ResolvedConfig, 'database'>): Promise<void> {
  const problem = await storage.writeProblem();
  if (problem !== null) throw new ConfigError(notWritableMessage(config.database, problem));
}

export function notWritableMessage(database: string, problem: string): string {
  const fix = /^postgres(ql)?:\/\//i.test(database)
    ? 'Connect to a primary (not a standby) as a user allowed to write its tables'
    : "Make the file and its folder writable by this server's user";
  return `The database ${describeDatabase(database)} (PORTCULLIS_DATABASE) takes no writes: ${problem.replace(/\.$/, '')}. ${fix}.`;
}

/** A driver error's message; a connection refused on every address of a name is an AggregateError without one. */
function reasonOf(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: { message?: string }[] };
  return e.message || e.errors?.[0]?.message || e.code || String(error);
}

function hintFor(error: unknown): string {
  const text = `${reasonOf(error)} ${(error as { code?: string }).code ?? ''}`;
  if (/readonly|read-only|EACCES|EROFS|EPERM|unable to open database file/i.test(text)) return ". Check that this server's user can write to the file and its folder.";
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) return '. The host name in the URL does not resolve.';
  if (/ECONNREFUSED/.test(text)) return '. Nothing listens at that host and port: is PostgreSQL running?';
  return '';
}
