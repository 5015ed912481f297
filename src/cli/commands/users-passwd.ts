import { generatePassword, hashPassword } from '../../identity/passwords.ts';
import { MIN_PASSWORD_LENGTH, UserInputError } from '../../identity/users.ts';
import { loadConfig, readSecretLine, withStorage, type Command } from '../command.ts';

export const usersPasswd: Command = {
  name: 'users passwd',
  summary: 'Set a new password for a local account',
  usage: '<name> [--password-stdin]',
  help: [
    'Options:',
    '  --password-stdin   read the password from the first line of standard input',
    '                     (otherwise one is generated and printed once)',
  ].join('\n'),
  options: { 'password-stdin': { type: 'boolean', default: false } },
  positionals: ['name'],
  async run({ values, positionals }, io) {
    const username = (positionals[0] ?? '').trim().toLowerCase();
    const generated = values['password-stdin'] ? null : generatePassword();
    const password = generated ?? (await readSecretLine(io, 'password'));
    if (password.length < MIN_PASSWORD_LENGTH) throw new UserInputError(`A password needs at least ${MIN_PASSWORD_LENGTH} characters`);
    await withStorage(loadConfig(io), async (storage) => {
      const user = await storage.users.byUsername(username);
      if (!user) throw new UserInputError(`There is no user named ${username}.`);
      await storage.users.setPassword(user.id, await hashPassword(password));
    });
    io.out(`Changed the password of ${username}.\n`);
    if (generated) io.out(`  password   ${generated}\n  This password is shown only this once.\n`);
  },
};
