import { cliName, date, loadConfig, table, withStorage, type Command } from '../command.ts';

export const usersList: Command = {
  name: 'users list',
  summary: 'List local accounts',
  usage: '',
  help: '',
  async run(_args, io) {
    const users = await withStorage(loadConfig(io), async (storage) => Promise.all((await storage.users.list()).map(async (u) => ({ ...u, groups: await storage.users.groups(u.id) }))));
    if (users.length === 0) {
      io.out(`No users yet. Add one: ${cliName(io)} users add <name>\n`);
      return;
    }
    io.out(table(['USERNAME', 'ROLE', 'CREATED', 'GROUPS'], users.map((u) => [u.username, u.isAdmin ? 'admin' : 'user', date(u.createdAt), u.groups.join(',')])));
  },
};
