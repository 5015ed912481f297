import { cliName, date, loadConfig, table, withStorage, type Command } from '../command.ts';

export const usersList: Command = {
  name: 'users list',
  summary: 'List local accounts',
  usage: '',
  help: '',
  async run(_args, io) {
    const users = await withStorage(loadConfig(io), (storage) => storage.users.list());
    if (users.length === 0) {
      io.out(`No users yet. Add one: ${cliName(io)} users add <name>\n`);
      return;
    }
    io.out(table(['USERNAME', 'ROLE', 'CREATED'], users.map((u) => [u.username, u.isAdmin ? 'admin' : 'user', date(u.createdAt)])));
  },
};
