import { changePassword } from '../../admin/actions.ts';
import { generatePassword, hashPassword } from '../../identity/passwords.ts';
import { MIN_PASSWORD_LENGTH, UserInputError } from '../../identity/users.ts';
import { CLI_ACTOR, readSecretLine, userNamed, withAdmin, type Command } from '../command.ts';

export const usersPasswd: Command = {
  name: 'users passwd',
  summary: 'Set a new password for a local account, signing it out everywhere',
  usage: '<name> [--password-stdin] [--keep-sessions]',
  help: [
    'Options:',
    '  --password-stdin   read the password from the first line of standard input',
    '                     (otherwise one is generated and printed once)',
    '  --keep-sessions    keep the user\'s browser sessions and connected apps',
    '',
    'By default whoever held the old password is shut out: the user\'s sessions end and every app they',
    'connected is revoked (each connects again with the new password).',
  ].join('\n'),
  options: { 'password-stdin': { type: 'boolean', default: false }, 'keep-sessions': { type: 'boolean', default: false } },
  positionals: ['name'],
  async run({ values, positionals }, io) {
    const generated = values['password-stdin'] ? null : generatePassword();
    const password = generated ?? (await readSecretLine(io, 'password'));
    if (password.length < MIN_PASSWORD_LENGTH) throw new UserInputError(`A password needs at least ${MIN_PASSWORD_LENGTH} characters`);
    const keepSessions = values['keep-sessions'] === true;
    const { user, ended } = await withAdmin(io, async (deps) => {
      const user = await userNamed(deps.storage, positionals[0] ?? '');
      return { user, ended: await changePassword(deps, CLI_ACTOR, user, await hashPassword(password), { keepSessions }) };
    });
    io.out(`Changed the password of ${user.username}.\n`);
    if (!keepSessions) io.out(`Ended ${ended.sessions} session${ended.sessions === 1 ? '' : 's'} and revoked ${ended.grants} connected app${ended.grants === 1 ? '' : 's'}.\n`);
    if (generated) io.out(`  password   ${generated}\n  This password is shown only this once.\n`);
  },
};
