import { removeUser } from '../../admin/actions.ts';
import { UserInputError } from '../../identity/users.ts';
import { CLI_ACTOR, userNamed, withAdmin, type Command } from '../command.ts';

export const usersRemove: Command = {
  name: 'users remove',
  summary: 'Delete a local account and everything it authorized',
  usage: '<name> [--yes]',
  help: [
    'Options:',
    '  --yes   do not ask for confirmation (needed when standard input is not a terminal)',
    '',
    'Revokes the user\'s grants and refresh tokens and deletes their sessions, consents and tasks.',
  ].join('\n'),
  options: { yes: { type: 'boolean', short: 'y', default: false } },
  positionals: ['name'],
  async run({ values, positionals }, io) {
    const outcome = await withAdmin(io, async (deps) => {
      const user = await userNamed(deps.storage, positionals[0] ?? '');
      if (values['yes'] !== true) {
        const grants = (await deps.storage.grants.listLive({ now: deps.clock.now(), userId: user.id })).length;
        const question = `Remove ${user.username}${user.isAdmin ? ' (an administrator)' : ''} and revoke ${grants} connected app${grants === 1 ? '' : 's'}? This cannot be undone. [y/N] `;
        const answer = (await io.ask?.(question)) ?? null;
        if (answer === null) throw new UserInputError(`Removing ${user.username} needs confirming: run it in a terminal, or add --yes.`);
        if (!/^y(es)?$/i.test(answer.trim())) return `Kept ${user.username}.\n`;
      }
      if (!(await removeUser(deps, CLI_ACTOR, user))) throw new UserInputError(`There is no user named ${user.username}.`);
      return `Removed user ${user.username}.\n`;
    });
    io.out(outcome);
  },
};
