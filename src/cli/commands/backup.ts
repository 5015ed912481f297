import { resolve } from 'node:path';
import { keyFileOf } from '../../bootstrap/banner.ts';
import { UserInputError } from '../../identity/users.ts';
import { BackupError, backupSqlite } from '../../storage/sqlite/backup.ts';
import { cliLogger, loadConfig, type Command } from '../command.ts';

export const backup: Command = {
  name: 'backup',
  summary: 'Copy the SQLite database to a file, safely while the server runs',
  usage: '<file> [--force]',
  help: [
    'Options:',
    '  --force   replace <file> if it exists',
    '',
    'Uses SQLite\'s online backup: the copy is consistent even while the server is writing, and is checked',
    'before it is put in place (readable only by you). The key-encryption key is NOT in the backup: the',
    'signing keys in it are encrypted with that key, so keep a copy of the key file (or of',
    'PORTCULLIS_KEY_ENCRYPTION_KEY) apart from the backups. To restore, stop the server, put the backup',
    'where PORTCULLIS_DATABASE points, with the key file beside it as <database>.key, and start.',
    'PostgreSQL: use pg_dump instead.',
  ].join('\n'),
  options: { force: { type: 'boolean', default: false } },
  positionals: ['file'],
  async run({ values, positionals }, io) {
    const config = loadConfig(io);
    if (config.database === ':memory:') throw new UserInputError('PORTCULLIS_DATABASE is :memory:, so there is no database file to back up.');
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(config.database)) throw new UserInputError('PORTCULLIS_DATABASE is not a SQLite file: back up PostgreSQL with pg_dump.');
    const source = resolve(config.database);
    const destination = resolve(positionals[0] ?? '');
    if (destination === source) throw new UserInputError('The backup cannot replace the database itself: choose another file.');
    let pages: number;
    try {
      ({ pages } = await backupSqlite(source, destination, { overwrite: values['force'] === true }));
    } catch (error) {
      if (error instanceof BackupError) throw new UserInputError(error.message);
      throw error;
    }
    cliLogger(io).audit('admin.backup', { actor: 'cli', database: source, file: destination, pages });
    const keyFile = keyFileOf(config);
    io.out(
      [
        `Backed up ${source} to ${destination} (${pages} pages, integrity checked).`,
        keyFile
          ? `The key-encryption key is NOT in the backup: keep a copy of ${keyFile} apart from it. A restore needs both.`
          : 'The key-encryption key is NOT in the backup: keep PORTCULLIS_KEY_ENCRYPTION_KEY apart from it. A restore needs both.',
        '',
      ].join('\n'),
    );
  },
};
