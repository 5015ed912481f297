import { generatePassword } from '../../identity/passwords.ts';
import { checkedGroups, createUser } from '../../identity/users.ts';
import { systemRandom } from '../../util/crypto.ts';
import { auditCreated } from '../../admin/actions.ts';
import { CLI_ACTOR, readSecretLine, withAdmin, type Command } from '../command.ts';

export const usersAdd: Command = {
  name: 'users add',
  summary: 'Create a local account',
  usage: '<name> [--admin] [--group <group>]… [--password-stdin]',
  help: [
    'Options:',
    '  --admin            the user is an administrator',
    '  --group <group>    a group the user belongs to, for tool policy rules (repeatable)',
    '  --password-stdin   read the password from the first line of standard input',
    '                     (otherwise one is generated and printed once)',
  ].join('\n'),
  options: {
    admin: { type: 'boolean', default: false },
    group: { type: 'string', multiple: true, default: [] },
    'password-stdin': { type: 'boolean', default: false },
  },
  positionals: ['name'],
  async run({ values, positionals }, io) {
    const groups = checkedGroups((values.group as string[] | undefined) ?? []);
    const generated = values['password-stdin'] ? null : generatePassword();
    const password = generated ?? (await readSecretLine(io, 'password'));
    const user = await withAdmin(io, async (deps) => {
      const user = await createUser(deps.storage, { username: positionals[0] ?? '', password, isAdmin: values.admin === true }, { now: deps.clock.now(), random: systemRandom });
      if (groups.length > 0) await deps.storage.users.setGroups(user.id, groups);
      auditCreated(deps, CLI_ACTOR, 'admin.user_created', { user_id: user.id, username: user.username, is_admin: user.isAdmin });
      return user;
    });
    io.out(`Created ${user.isAdmin ? 'administrator' : 'user'} ${user.username}.\n`);
    if (generated) io.out(`  password   ${generated}\n  This password is shown only this once.\n`);
  },
};
