import { generatePassword } from '../../identity/passwords.ts';
import { createUser } from '../../identity/users.ts';
import { systemRandom } from '../../util/crypto.ts';
import { auditCreated } from '../../admin/actions.ts';
import { CLI_ACTOR, readSecretLine, withAdmin, type Command } from '../command.ts';

export const usersAdd: Command = {
  name: 'users add',
  summary: 'Create a local account',
  usage: '<name> [--admin] [--password-stdin]',
  help: [
    'Options:',
    '  --admin            the user is an administrator',
    '  --password-stdin   read the password from the first line of standard input',
    '                     (otherwise one is generated and printed once)',
  ].join('\n'),
  options: {
    admin: { type: 'boolean', default: false },
    'password-stdin': { type: 'boolean', default: false },
  },
  positionals: ['name'],
  async run({ values, positionals }, io) {
    const generated = values['password-stdin'] ? null : generatePassword();
    const password = generated ?? (await readSecretLine(io, 'password'));
    const user = await withAdmin(io, async (deps) => {
      const user = await createUser(deps.storage, { username: positionals[0] ?? '', password, isAdmin: values.admin === true }, { now: deps.clock.now(), random: systemRandom });
      auditCreated(deps, CLI_ACTOR, 'admin.user_created', { user_id: user.id, username: user.username, is_admin: user.isAdmin });
      return user;
    });
    io.out(`Created ${user.isAdmin ? 'administrator' : 'user'} ${user.username}.\n`);
    if (generated) io.out(`  password   ${generated}\n  This password is shown only this once.\n`);
  },
};
