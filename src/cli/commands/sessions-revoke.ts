import { endSession, endUserSessions } from '../../admin/actions.ts';
import { UserInputError } from '../../identity/users.ts';
import { CLI_ACTOR, printable, userNamed, withAdmin, type Command } from '../command.ts';

export const sessionsRevoke: Command = {
  name: 'sessions revoke',
  summary: 'Sign a browser out (one session), or a user out of every browser (--user)',
  usage: '<session_id> | --user <name>',
  help: [
    'Options:',
    '  --user <name>   end every session of this user',
    '',
    'Apps the user connected keep working: revoke those with `grants revoke`.',
  ].join('\n'),
  options: { user: { type: 'string' } },
  positionals: ['session_id?'],
  async run({ values, positionals }, io) {
    const sessionId = positionals[0];
    const username = typeof values['user'] === 'string' ? values['user'] : undefined;
    if ((sessionId === undefined) === (username === undefined)) throw new UserInputError('Give either a session id (from `sessions list`) or --user <name>.');
    const message = await withAdmin(io, async (deps) => {
      if (username !== undefined) {
        const user = await userNamed(deps.storage, username);
        const ended = await endUserSessions(deps, CLI_ACTOR, user);
        return `Ended ${ended} session${ended === 1 ? '' : 's'} of ${user.username}.\n`;
      }
      if (!(await endSession(deps, CLI_ACTOR, sessionId ?? ''))) throw new UserInputError(`There is no live session with id ${printable(sessionId ?? '')}.`);
      return `Ended session ${sessionId}.\n`;
    });
    io.out(message);
  },
};
