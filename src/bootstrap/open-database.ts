import { ConfigError, type ResolvedConfig } from '../config/resolve.ts';
import { keyRingSource } from '../keys/key-ring-source.ts';
import { openStorage } from '../storage/open.ts';
import type { Storage } from '../storage/types.ts';
import { describeDatabase } from './banner.ts';

/**
 * Opens the configured database for the server or a CLI command, with its key-encryption key.
 * Failing to open it is nearly always a setting or a permission (a folder that cannot be created, a
 * file locked by something else, a PostgreSQL server that does not answer, a missing or wrong key), so
 * it is reported as one line naming the database or the key's setting.
 */
export async function openDatabase(config: Pick<ResolvedConfig, 'database' | 'keyEncryptionKey' | 'keyEncryptionKeyFile' | 'previousKeyEncryptionKeys'>): Promise<Storage> {
  const keyRing = keyRingSource(config);
  try {
    return await openStorage(config.database, keyRing);
  } catch (error) {
    // Key-encryption problems name their own setting.
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`Cannot open the database ${describeDatabase(config.database)} (PORTCULLIS_DATABASE): ${(error as Error).message}`);
  }
}
