import { revokeGrant } from '../../admin/actions.ts';
import { UserInputError } from '../../identity/users.ts';
import { CLI_ACTOR, printable, withAdmin, type Command } from '../command.ts';

export const grantsRevoke: Command = {
  name: 'grants revoke',
  summary: 'End a grant: its refresh tokens stop at once, its access tokens within seconds',
  usage: '<grant_id>',
  help: 'The id is the first column of `grants list`. A running server refuses the grant\'s access tokens within 5 seconds (its grant-status cache).',
  positionals: ['grant_id'],
  async run({ positionals }, io) {
    const grantId = positionals[0] ?? '';
    const revoked = await withAdmin(io, (deps) => revokeGrant(deps, CLI_ACTOR, grantId));
    if (!revoked) throw new UserInputError(`There is no live grant with id ${printable(grantId)}.`);
    io.out(`Revoked grant ${grantId}.\n`);
  },
};
