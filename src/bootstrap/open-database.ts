import { ConfigError } from '../config/resolve.ts';
import { openStorage } from '../storage/open.ts';
import type { Storage } from '../storage/types.ts';
import { describeDatabase } from './banner.ts';

/**
 * Opens the configured database for the server or a CLI command. Failing to open it is nearly always
 * a setting or a permission (a folder that cannot be created, a file locked by something else, a
 * PostgreSQL server that does not answer), so it is reported as one line naming the database.
 */
export async function openDatabase(database: string): Promise<Storage> {
  try {
    return await openStorage(database);
  } catch (error) {
    throw new ConfigError(`Cannot open the database ${describeDatabase(database)} (PORTCULLIS_DATABASE): ${(error as Error).message}`);
  }
}
