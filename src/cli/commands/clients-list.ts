import { systemClock } from '../../util/clock.ts';
import { date, loadConfig, printable, table, withStorage, type Command } from '../command.ts';

export const clientsList: Command = {
  name: 'clients list',
  summary: 'List registered clients (dynamic and pre-registered) with their last use and live grants',
  usage: '',
  help: [
    'ADDED BY is dcr for clients that registered themselves (RFC 7591) and cli for clients added with `clients add`.',
    'LAST USE is when the client last completed a grant (a code redeemed, a token issued); GRANTS counts its live grants.',
  ].join('\n'),
  async run(_args, io) {
    const { clients, live } = await withStorage(loadConfig(io), async (storage) => ({
      clients: await storage.clients.list(),
      live: await storage.grants.liveCountByClient(systemClock.now()),
    }));
    if (clients.length === 0) {
      io.out('No clients yet. MCP clients register themselves when they first connect.\n');
      return;
    }
    io.out(
      table(
        ['CLIENT ID', 'TYPE', 'ADDED BY', 'CREATED', 'LAST USE', 'GRANTS', 'NAME', 'REDIRECT URIS'],
        clients.map((c) => [
          c.clientId,
          c.tokenEndpointAuthMethod === 'none' ? 'public' : 'confidential',
          c.source,
          date(c.createdAt),
          c.lastGrantAt ? date(c.lastGrantAt) : 'never',
          String(live.get(c.clientId) ?? 0),
          printable(c.clientName),
          c.redirectUris.map(printable).join(' '),
        ]),
      ),
    );
  },
};
