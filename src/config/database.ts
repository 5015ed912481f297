/**
 * What is wrong with a `database` value, or null. It is a SQLite file path, `:memory:`, or a
 * PostgreSQL URL; anything else that looks like a URL (`mysql://…`, a mistyped `postgres:/…`) is
 * refused here, where it would otherwise become the name of a new SQLite file.
 */
export function databaseProblem(database: string): string | null {
  if (database === ':memory:') return null;
  if (/^postgres(ql)?:\/\//i.test(database)) {
    try {
      new URL(database);
      return null;
    } catch {
      return 'this PostgreSQL URL cannot be parsed; the form is postgres://user:password@host:5432/database (percent-encode special characters in the password)';
    }
  }
  // A Windows drive letter (C:\data\portcullis.db) is a path, not a URL scheme.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(database);
  if (!scheme || /^[a-z]:[\\/]/i.test(database)) return null;
  const name = scheme[1]!.toLowerCase();
  if (name === 'postgres' || name === 'postgresql') return `it starts with "${scheme[0]}" but is not a PostgreSQL URL, which has two slashes: postgres://user:password@host:5432/database`;
  if (name === 'file' || name === 'sqlite') return `give the SQLite file as a path (e.g. ./data/portcullis.db), without "${scheme[0]}"`;
  return `${name} is not supported: give a SQLite file path (e.g. ./data/portcullis.db) or a postgres:// URL`;
}
