import { clientPruneRule } from '../../authorization/clients/client-expiry.ts';
import { systemClock } from '../../util/clock.ts';
import { loadConfig, withStorage, type Command } from '../command.ts';

export const clientsPrune: Command = {
  name: 'clients prune',
  summary: 'Remove self-registered clients that are unused or idle',
  usage: '',
  help:
    'Removes, with everything issued to them, clients that registered themselves and never completed an authorization within ' +
    'registration.unusedClientTtl, or have no live grant and none completed within registration.idleClientTtl. A running server ' +
    'does the same every 10 minutes. Clients added with `clients add` are never removed.',
  async run(_args, io) {
    const config = loadConfig(io);
    const removed = await withStorage(config, (storage) => storage.clients.prune(clientPruneRule(config, systemClock.now())));
    io.out(`Removed ${removed} unused or idle self-registered client${removed === 1 ? '' : 's'}.\n`);
  },
};
