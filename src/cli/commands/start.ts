import { renderStartupBanner } from '../../bootstrap/banner.ts';
import { startNodeServer } from '../../runtime/node.ts';
import { cliName, loadConfig, type Command } from '../command.ts';

export const start: Command = {
  name: 'start',
  summary: 'Start the server (MCP endpoint, authorization server, login and consent pages)',
  usage: '',
  help: [
    'Listens on HOST:PORT (default 127.0.0.1:3000) and stores everything in PORTCULLIS_DATABASE.',
    'PORT=0 picks a free port. On the first start, with no users, it creates the administrator',
    '`admin` and prints its password once. Stops gracefully on Ctrl+C or SIGTERM.',
    'Settings: docs/configuration.md.',
  ].join('\n'),
  async run(_args, io) {
    const config = loadConfig(io);
    await startNodeServer(config, {
      // The banner first (a person reads it), then the JSON logs.
      onReady: (ready) => io.out(renderStartupBanner({ ...ready, cli: cliName(io) })),
    });
  },
};
