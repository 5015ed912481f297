import type { Storage } from './types.ts';

/** `postgres://…` opens PostgreSQL; anything else is a SQLite file path (or `:memory:`). */
export async function openStorage(database: string): Promise<Storage> {
  if (/^postgres(ql)?:\/\//i.test(database)) {
    // Loaded on demand so SQLite-only and Workers deployments never load the pg driver.
    const { openPostgresStorage } = await import('./postgres/open.ts');
    return openPostgresStorage(database);
  }
  const { openSqliteStorage } = await import('./sqlite/open.ts');
  return openSqliteStorage(database);
}
