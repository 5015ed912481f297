import { date, printable, table, userNamed, withAdmin, type Command } from '../command.ts';

export const grantsList: Command = {
  name: 'grants list',
  summary: 'List live grants (what each user allowed each client), one a line with its id first',
  usage: '[--user <name>] [--client <client_id>]',
  help: [
    'Options:',
    '  --user <name>          only this user\'s grants',
    '  --client <client_id>   only this client\'s grants',
    '',
    'A header line, then one grant a line: GRANT ID first, for `grants revoke <id>`. Revoked and expired',
    'grants are not listed.',
  ].join('\n'),
  options: { user: { type: 'string' }, client: { type: 'string' } },
  async run({ values }, io) {
    const rows = await withAdmin(io, async ({ storage, clock }) => {
      const user = typeof values['user'] === 'string' ? await userNamed(storage, values['user']) : undefined;
      const clientId = typeof values['client'] === 'string' ? values['client'] : undefined;
      const grants = await storage.grants.listLive({ now: clock.now(), ...(user ? { userId: user.id } : {}), ...(clientId !== undefined ? { clientId } : {}) });
      const usernames = new Map((await storage.users.list()).map((u) => [u.id, u.username]));
      const clientNames = new Map((await storage.clients.list()).map((c) => [c.clientId, c.clientName]));
      return grants.map((g) => [
        g.id,
        usernames.get(g.userId) ?? g.userId,
        printable(g.clientId),
        printable(clientNames.get(g.clientId) ?? '-'),
        date(g.createdAt),
        date(g.expiresAt),
        g.scopes.join(' ') || '-',
      ]);
    });
    io.out(table(['GRANT ID', 'USER', 'CLIENT ID', 'CLIENT NAME', 'CREATED', 'EXPIRES', 'SCOPE'], rows));
  },
};
