import { KEK_SETTING, PREVIOUS_KEKS_SETTING } from '../../keys/key-encryption.ts';
import { loadConfig, withStorage, type Command } from '../command.ts';

export const keysRewrap: Command = {
  name: 'keys rewrap',
  summary: 'Re-encrypt the stored signing keys and server keys with the current key-encryption key',
  usage: '',
  help: [
    `Rotating the key-encryption key (${KEK_SETTING}):`,
    `  1. On every instance, set ${KEK_SETTING} to the new key (\`openssl rand -base64 32\`) and`,
    `     ${PREVIOUS_KEKS_SETTING} to the old one, and restart.`,
    '  2. Run this command once, with the same settings.',
    `  3. Remove ${PREVIOUS_KEKS_SETTING} and restart; the old key can be destroyed.`,
    'With the default key file of a SQLite database (<database>.key), put the old key in',
    `${PREVIOUS_KEKS_SETTING}, the new one in ${KEK_SETTING}, run this command, then write the new key`,
    'into the file (mode 600) and unset both settings.',
  ].join('\n'),
  async run(_args, io) {
    const changed = await withStorage(loadConfig(io), (storage) => storage.rewrapSecrets());
    io.out(changed === 0 ? 'Every stored secret is already encrypted with the current key-encryption key.\n' : `Re-encrypted ${changed} stored secret${changed === 1 ? '' : 's'} with the current key-encryption key.\n`);
  },
};
