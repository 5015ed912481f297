import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../config/resolve.ts';
import { KEK_SETTING, KeyEncryptionError, KeyRing, newKeyEncryptionKeyText, parseKeyEncryptionKey, PREVIOUS_KEKS_SETTING, type KeyEncryptionKey } from './key-encryption.ts';

/**
 * Where the key-encryption key comes from. Either a ring, or a function of the KEK ids the database's
 * secrets are already sealed under: the default key file is only created for a database that has none,
 * so a database restored without its key file is refused instead of getting a new, useless key.
 */
export type KeyRingSource = KeyRing | ((sealedUnder: ReadonlySet<string>) => KeyRing);

export const KEK_FILE_SETTING = 'PORTCULLIS_KEY_ENCRYPTION_KEY_FILE';

/** The settings that choose the KEK (src/config/schema.ts). */
export interface KeyEncryptionSettings {
  database: string;
  keyEncryptionKey?: string | undefined;
  keyEncryptionKeyFile?: string | undefined;
  previousKeyEncryptionKeys?: readonly string[] | undefined;
}

const isPostgres = (database: string): boolean => /^postgres(ql)?:\/\//i.test(database);

/** The default KEK file of a SQLite database: next to it, `<file>.key`. */
export const defaultKeyFile = (sqlitePath: string): string => `${sqlitePath}.key`;

/**
 * The KEK for `settings.database`: `PORTCULLIS_KEY_ENCRYPTION_KEY`, else the file named by
 * `PORTCULLIS_KEY_ENCRYPTION_KEY_FILE`, else — SQLite only — `<database>.key`, created on first
 * start readable only by this user; `:memory:` gets a key that lives as long as the process.
 * PostgreSQL has no default: its instances must share one key, so it must be given.
 */
export function keyRingSource(settings: KeyEncryptionSettings): KeyRingSource {
  const previous = (settings.previousKeyEncryptionKeys ?? []).map((k, i) => parseKeyEncryptionKey(k, `${PREVIOUS_KEKS_SETTING} (key ${i + 1})`));
  if (settings.keyEncryptionKey && settings.keyEncryptionKeyFile) throw new ConfigError(`Set ${KEK_SETTING} or ${KEK_FILE_SETTING}, not both`);
  if (settings.keyEncryptionKey) return new KeyRing(parseKeyEncryptionKey(settings.keyEncryptionKey, KEK_SETTING), previous);
  if (settings.keyEncryptionKeyFile) return new KeyRing(readKeyFile(settings.keyEncryptionKeyFile, KEK_FILE_SETTING, false), previous);
  if (settings.database === ':memory:') return previous.length ? new KeyRing(KeyRing.ephemeral().current, previous) : KeyRing.ephemeral();
  if (isPostgres(settings.database)) {
    throw new KeyEncryptionError(
      `A PostgreSQL database needs a key-encryption key shared by every instance: set ${KEK_SETTING} (32 random bytes in base64url, e.g. \`openssl rand -base64 32\`) or ${KEK_FILE_SETTING}`,
    );
  }
  return defaultKeyFileSource(settings.database, previous);
}

/** `<database>.key`: read when it exists, created (0600) for a database that holds no sealed secret yet. */
export function defaultKeyFileSource(sqlitePath: string, previous: readonly KeyEncryptionKey[] = []): KeyRingSource {
  const file = defaultKeyFile(sqlitePath);
  return (sealedUnder) => {
    if (!exists(file)) {
      if (sealedUnder.size > 0) {
        throw new KeyEncryptionError(
          `The database ${sqlitePath} holds secrets encrypted with key-encryption key ${[...sealedUnder].join(', ')}, but its key file ${file} is missing. ` +
            `Restore that file (it was created next to the database on first start), or set ${KEK_SETTING} to the key.`,
        );
      }
      createKeyFile(file);
    }
    return new KeyRing(readKeyFile(file, `the key file ${file}`, true), previous);
  };
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Writes a new random key to `file`, readable and writable only by this user. Written aside and then
 * linked into place, which fails if the file exists: instances starting together on one SQLite file
 * all end up reading the one complete key that won.
 */
function createKeyFile(file: string): void {
  const aside = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(aside, `${newKeyEncryptionKeyText()}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(aside, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new KeyEncryptionError(`Cannot create the key file ${file}: ${(error as Error).message}`);
  } finally {
    unlinkSync(aside);
  }
}

/**
 * Reads a KEK file. The default file must be private to this user (it sits next to the database, whose
 * backups may be readable by others); a file named by the operator (a container secret mount) is theirs.
 */
function readKeyFile(file: string, source: string, requirePrivate: boolean): KeyEncryptionKey {
  let text: string;
  try {
    if (requirePrivate && process.platform !== 'win32') {
      const mode = statSync(file).mode & 0o777;
      if (mode & 0o077) {
        throw new KeyEncryptionError(`The key file ${file} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}): run \`chmod 600 ${file}\``);
      }
    }
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof KeyEncryptionError) throw error;
    throw new KeyEncryptionError(`Cannot read the key-encryption key from ${file} (${source === KEK_FILE_SETTING ? KEK_FILE_SETTING : 'the default key file'}): ${(error as Error).message}`);
  }
  return parseKeyEncryptionKey(text, source === KEK_FILE_SETTING ? `${KEK_FILE_SETTING} (${file})` : source);
}
