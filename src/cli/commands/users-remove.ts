import { UserInputError } from '../../identity/users.ts';
import { loadConfig, withStorage, type Command } from '../command.ts';

export const usersRemove: Command = {
  name: 'users remove',
  summary: 'Delete a local account and everything it authorized',
  usage: '<name>',
  help: 'Revokes the user\'s grants and refresh tokens and deletes their sessions, consents and tasks.',
  positionals: ['name'],
  async run({ positionals }, io) {
    const username = (positionals[0] ?? '').trim().toLowerCase();
    await withStorage(loadConfig(io), async (storage) => {
      const user = await storage.users.byUsername(username);
      if (!user || !(await storage.users.remove(user.id))) throw new UserInputError(`There is no user named ${username}.`);
    });
    io.out(`Removed user ${username}.\n`);
  },
};
