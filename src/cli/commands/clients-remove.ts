import { removeClient } from '../../admin/actions.ts';
import { UserInputError } from '../../identity/users.ts';
import { CLI_ACTOR, printable, withAdmin, type Command } from '../command.ts';

export const clientsRemove: Command = {
  name: 'clients remove',
  summary: 'Delete a client and revoke everything issued to it',
  usage: '<client_id>',
  help: 'Deletes its grants: its refresh tokens stop working at once, and a running server refuses its access tokens within seconds.',
  positionals: ['client_id'],
  async run({ positionals }, io) {
    const clientId = positionals[0] ?? '';
    const removed = await withAdmin(io, (deps) => removeClient(deps, CLI_ACTOR, clientId));
    if (!removed) throw new UserInputError(`There is no client with id ${printable(clientId)}.`);
    io.out(`Removed client ${clientId}.\n`);
  },
};
