import type { KeyRingSource } from '../keys/key-ring-source.ts';
import type { Storage } from './types.ts';

/**
 * `postgres://…` opens PostgreSQL; anything else is a SQLite file path (or `:memory:`). `keyRing`
 * seals the server's secrets (src/keys/key-ring-source.ts chooses it from the settings).
 */
export async function openStorage(database: string, keyRing?: KeyRingSource): Promise<Storage> {
  if (/^postgres(ql)?:\/\//i.test(database)) {
    // Loaded on demand so SQLite-only and Workers deployments never load the pg driver.
    const { openPostgresStorage } = await import('./postgres/open.ts');
    return openPostgresStorage(database, keyRing ? { keyRing } : {});
  }
  const { openSqliteStorage } = await import('./sqlite/open.ts');
  return openSqliteStorage(database, keyRing ? { keyRing } : {});
}
