import { date, loadConfig, printable, table, withStorage, type Command } from '../command.ts';

export const clientsList: Command = {
  name: 'clients list',
  summary: 'List registered clients (dynamic and pre-registered)',
  usage: '',
  help: 'ADDED BY is dcr for clients that registered themselves (RFC 7591) and cli for clients added with `clients add`.',
  async run(_args, io) {
    const clients = await withStorage(loadConfig(io), (storage) => storage.clients.list());
    if (clients.length === 0) {
      io.out('No clients yet. MCP clients register themselves when they first connect.\n');
      return;
    }
    io.out(
      table(
        ['CLIENT ID', 'TYPE', 'ADDED BY', 'CREATED', 'NAME', 'REDIRECT URIS'],
        clients.map((c) => [
          c.clientId,
          c.tokenEndpointAuthMethod === 'none' ? 'public' : 'confidential',
          c.source,
          date(c.createdAt),
          printable(c.clientName),
          c.redirectUris.map(printable).join(' '),
        ]),
      ),
    );
  },
};
