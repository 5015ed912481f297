import { chmodSync, closeSync, existsSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as sqlite from 'node:sqlite';

export class BackupError extends Error {
  override name = 'BackupError';
}

/** `backup()` of node:sqlite: Node 22.16+, 23.8+ and 24 have it. */
/** node:sqlite wants a positive 32-bit rate; this many pages per step is all of them. */
const ALL_PAGES = 2 ** 31 - 1;

type OnlineBackup = (source: sqlite.DatabaseSync, destination: string, options?: { rate?: number }) => Promise<number>;

/**
 * Copies a SQLite database that may be in use by a running server into `destination`, through
 * SQLite's online backup API: the copy is one consistent snapshot (the database as of the copy's start;
 * writes made meanwhile are not in it, never half in it), checked with `integrity_check` before it is
 * put in place. The file is written beside the destination, readable only by this user, then
 * renamed, so a failed backup never leaves a truncated file under the given name.
 */
export async function backupSqlite(source: string, destination: string, options: { overwrite?: boolean } = {}): Promise<{ pages: number }> {
  const online = (sqlite as { backup?: OnlineBackup }).backup;
  if (typeof online !== 'function') throw new BackupError(`This Node (${process.version}) has no SQLite online backup: use Node 22.16 or later.`);
  if (!existsSync(source)) throw new BackupError(`There is no database at ${source}.`);
  if (existsSync(destination) && !options.overwrite) throw new BackupError(`${destination} exists already: choose another name, or add --force to replace it.`);

  const partial = join(dirname(destination), `.${basename(destination)}.partial-${process.pid}`);
  // Created empty with mode 0600 before SQLite writes to it: the copy holds password and secret hashes.
  closeSync(openSync(partial, 'w', 0o600));
  const db = new sqlite.DatabaseSync(source, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    // All pages in one step, inside one read transaction: a WAL snapshot that the server's writes do
    // not disturb (nor wait for). In smaller steps, every write by the server between two steps
    // restarts the copy, and a busy server's backup would never finish.
    const pages = await online(db, partial, { rate: ALL_PAGES });
    checkIntegrity(partial);
    chmodSync(partial, 0o600);
    renameSync(partial, destination);
    return { pages };
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`The backup of ${source} failed: ${(error as Error).message}`);
  } finally {
    db.close();
    rmSync(partial, { force: true });
    for (const suffix of ['-wal', '-shm', '-journal']) rmSync(partial + suffix, { force: true });
  }
}

function checkIntegrity(path: string): void {
  const copy = new sqlite.DatabaseSync(path);
  try {
    // A backup is read by itself: no WAL beside it to lose.
    copy.exec('PRAGMA journal_mode = DELETE');
    const rows = copy.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
    const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    if (problems.length > 0) throw new BackupError(`The copy failed SQLite's integrity check: ${problems.slice(0, 3).join('; ')}`);
  } finally {
    copy.close();
  }
}
