import { checkedGroups, UserInputError } from '../../identity/users.ts';
import { loadConfig, withStorage, type Command } from '../command.ts';

export const usersGroups: Command = {
  name: 'users groups',
  summary: 'Set the groups of a local account (tool policy)',
  usage: '<name> [--group <group>]…',
  help: [
    'Options:',
    '  --group <group>    a group the user belongs to (repeatable); none removes them all',
    '',
    'Replaces the user\'s groups. Tool policy rules (toolPolicy.rules[].groups) let only members use a tool.',
    'Takes effect on the user\'s next MCP request.',
  ].join('\n'),
  options: { group: { type: 'string', multiple: true, default: [] } },
  positionals: ['name'],
  async run({ values, positionals }, io) {
    const username = (positionals[0] ?? '').trim().toLowerCase();
    const groups = checkedGroups((values.group as string[] | undefined) ?? []);
    await withStorage(loadConfig(io), async (storage) => {
      const user = await storage.users.byUsername(username);
      if (!user || !(await storage.users.setGroups(user.id, groups))) throw new UserInputError(`There is no user named ${username}.`);
    });
    io.out(groups.length > 0 ? `${username} is now in ${groups.join(', ')}.\n` : `${username} is now in no group.\n`);
  },
};
