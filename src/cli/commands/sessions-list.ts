import { date, table, userNamed, withAdmin, type Command } from '../command.ts';

export const sessionsList: Command = {
  name: 'sessions list',
  summary: 'List browser sign-in sessions, one a line with its id first',
  usage: '[--user <name>]',
  help: [
    'Options:',
    '  --user <name>   only this user\'s sessions',
    '',
    'The session id shown is a hash of the browser\'s cookie, which cannot be turned back into it.',
  ].join('\n'),
  options: { user: { type: 'string' } },
  async run({ values }, io) {
    const rows = await withAdmin(io, async ({ storage, clock }) => {
      const user = typeof values['user'] === 'string' ? await userNamed(storage, values['user']) : undefined;
      const sessions = await storage.loginSessions.list({ now: clock.now(), ...(user ? { userId: user.id } : {}) });
      const usernames = new Map((await storage.users.list()).map((u) => [u.id, u.username]));
      return sessions.map((s) => [s.idHash, usernames.get(s.userId) ?? s.userId, date(s.createdAt), date(s.expiresAt)]);
    });
    io.out(table(['SESSION ID', 'USER', 'SIGNED IN', 'EXPIRES'], rows));
  },
};
