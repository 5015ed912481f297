import { renderStartupBanner } from '../../bootstrap/banner.ts';
import { loadConfigInput } from '../../config/env.ts';
import { resolveConfig } from '../../config/resolve.ts';
import type { ConfigInput } from '../../config/schema.ts';
import { startNodeServer } from '../../runtime/node.ts';
import { cliName, type Command, type ParsedArgs } from '../command.ts';

export const start: Command = {
  name: 'start',
  summary: 'Start the server (MCP endpoint, authorization server, login and consent pages)',
  usage: '[--admin-password-file <path>] [--upstream <url> | --upstream-command "<command>"] [--authorization-server <issuer> [--verifier jwks|introspection|stytch] [--jwks-url <url>]]',
  options: {
    'admin-password-file': { type: 'string' },
    upstream: { type: 'string' },
    'upstream-command': { type: 'string' },
    'authorization-server': { type: 'string' },
    verifier: { type: 'string' },
    'jwks-url': { type: 'string' },
  },
  help: [
    'Listens on HOST:PORT (default 127.0.0.1:3000) and stores everything in PORTCULLIS_DATABASE.',
    'PORT=0 picks a free port. On the first start, with no users, it creates the administrator',
    '`admin` and prints its password once; --admin-password-file <path> (PORTCULLIS_INITIAL_ADMIN_PASSWORD_FILE)',
    'writes it to a file readable only by you instead, since a service manager\'s log may keep what is printed.',
    'Stops gracefully on Ctrl+C or SIGTERM.',
    '',
    'Gateway mode: put OAuth in front of an MCP server you already have; its tools replace the built-in ones.',
    '  --upstream <url>                 a Streamable HTTP MCP server (PORTCULLIS_UPSTREAM_URL)',
    '  --upstream-command "<command>"   a stdio MCP server, one process per MCP session (PORTCULLIS_UPSTREAM_COMMAND),',
    '                                   e.g. --upstream-command "npx -y @modelcontextprotocol/server-everything"',
    '',
    'Resource-only mode: accept the tokens of an authorization server you already have (Stytch, Auth0, Keycloak,',
    'another Portcullis); the built-in authorization server, login and consent pages are off.',
    '  --authorization-server <issuer>  its issuer URL, named in the Protected Resource Metadata (PORTCULLIS_AUTHORIZATION_SERVER)',
    '  --verifier <kind>                jwks (default: JWT access tokens), introspection (RFC 7662) or stytch (PORTCULLIS_VERIFIER)',
    '  --jwks-url <url>                 where its keys are, if not in its metadata (PORTCULLIS_JWKS_URL)',
    '  Introspection credentials come from the environment only (PORTCULLIS_INTROSPECTION_CLIENT_ID and',
    '  _SECRET), never from flags, which other users of the machine can read.',
    'Settings: docs/configuration.md.',
  ].join('\n'),
  async run(args, io) {
    const config = resolveConfig(withPasswordFileFlag(withAuthorizationServerFlags(withUpstreamFlags(loadConfigInput(io.env), args), args), args));
    await startNodeServer(config, {
      // Run by npm (`npm start`, `npm run portcullis -- start`): never outlive it.
      stopWhenParentExits: io.env['npm_lifecycle_event'] !== undefined,
      // The banner first (a person reads it), then the JSON logs.
      onReady: (ready) => io.out(renderStartupBanner({ ...ready, cli: cliName(io) })),
    });
  },
};

/** `--admin-password-file` wins over the environment and the config file. */
function withPasswordFileFlag(input: ConfigInput, args: ParsedArgs): ConfigInput {
  const file = args.values['admin-password-file'];
  return typeof file === 'string' ? { ...input, initialAdminPasswordFile: file } : input;
}

/** `--upstream` and `--upstream-command` win over the environment and the config file, and over each other's setting there. */
function withUpstreamFlags(input: ConfigInput, args: ParsedArgs): ConfigInput {
  const url = args.values['upstream'];
  const command = args.values['upstream-command'];
  if (typeof url !== 'string' && typeof command !== 'string') return input;
  const upstream = { ...input.upstream };
  delete upstream.url;
  delete upstream.command;
  if (typeof url === 'string') upstream.url = url;
  if (typeof command === 'string') upstream.command = command;
  return { ...input, upstream };
}

/** `--authorization-server`, `--verifier` and `--jwks-url` win over the environment and the config file. */
function withAuthorizationServerFlags(input: ConfigInput, args: ParsedArgs): ConfigInput {
  const flags = { issuer: args.values['authorization-server'], verifier: args.values['verifier'], jwksUrl: args.values['jwks-url'] };
  if (Object.values(flags).every((v) => typeof v !== 'string')) return input;
  const settings = { ...input.authorizationServer };
  if (typeof flags.issuer === 'string') settings.issuer = flags.issuer;
  if (typeof flags.verifier === 'string') settings.verifier = flags.verifier as 'jwks';
  if (typeof flags.jwksUrl === 'string') settings.jwksUrl = flags.jwksUrl;
  return { ...input, authorizationServer: settings };
}
