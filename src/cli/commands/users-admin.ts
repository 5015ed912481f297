import { setAdmin } from '../../admin/actions.ts';
import { CLI_ACTOR, userNamed, withAdmin, type Command } from '../command.ts';

export const usersAdmin: Command = {
  name: 'users admin',
  summary: 'Make a user an administrator (/admin), or no longer one with --remove',
  usage: '<name> [--remove]',
  help: [
    'Options:',
    '  --remove   take the administrator role away',
    '',
    'Works for accounts made by an identity provider (OIDC, Stytch) too: they then open /admin in the',
    'browser they signed in with while connecting an app.',
  ].join('\n'),
  options: { remove: { type: 'boolean', default: false } },
  positionals: ['name'],
  async run({ values, positionals }, io) {
    const makeAdmin = values['remove'] !== true;
    const username = await withAdmin(io, async (deps) => {
      const user = await userNamed(deps.storage, positionals[0] ?? '');
      await setAdmin(deps, CLI_ACTOR, user, makeAdmin);
      return user.username;
    });
    io.out(makeAdmin ? `${username} is an administrator.\n` : `${username} is no longer an administrator.\n`);
  },
};
