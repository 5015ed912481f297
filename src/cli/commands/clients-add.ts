import { computeCapabilities } from '../../authorization/capabilities.ts';
import { registerClient, validateClientMetadata } from '../../authorization/clients/register-client.ts';
import { systemClock } from '../../util/clock.ts';
import { systemRandom } from '../../util/crypto.ts';
import { loadConfig, printable, withStorage, type Command } from '../command.ts';

export const clientsAdd: Command = {
  name: 'clients add',
  summary: 'Register a client ahead of time (pre-registration)',
  usage: '--name <name> --redirect-uri <uri> [--redirect-uri <uri>…] [--confidential] [--grant refresh_token] [--scope "<scopes>"]',
  help: [
    'Options:',
    '  --name <name>           shown to users on the consent page',
    '  --redirect-uri <uri>    where users are sent back; repeat for several (https, http on',
    '                          localhost/127.0.0.1/[::1], or an app scheme such as cursor://)',
    '  --confidential          the client gets a secret and sends it with HTTP Basic',
    '  --auth-method <method>  none (default), client_secret_basic or client_secret_post',
    '  --grant refresh_token   the client may refresh its tokens (authorization_code is always on)',
    '  --scope "<scopes>"      the scopes it may ask for, space-separated (default: any)',
    '',
    'Prints the client_id and, for a confidential client, its secret: the secret is shown only once.',
  ].join('\n'),
  options: {
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    confidential: { type: 'boolean', default: false },
    'auth-method': { type: 'string' },
    grant: { type: 'string', multiple: true },
    scope: { type: 'string' },
  },
  async run({ values }, io) {
    const config = loadConfig(io);
    const authMethod = (values['auth-method'] as string | undefined) ?? (values.confidential ? 'client_secret_basic' : 'none');
    // Same validation as dynamic registration, so a pre-registered client obeys the same rules.
    const metadata = validateClientMetadata(
      {
        client_name: values.name,
        redirect_uris: values['redirect-uri'] ?? [],
        token_endpoint_auth_method: authMethod,
        grant_types: ['authorization_code', ...((values.grant as string[] | undefined) ?? [])],
        scope: values.scope,
      },
      computeCapabilities(config),
    );
    const { client, clientSecret } = await withStorage(config, (storage) =>
      registerClient({ storage, clock: systemClock, random: systemRandom }, metadata, { source: 'cli' }),
    );
    io.out(
      [
        `Created client "${printable(client.clientName)}".`,
        `  client_id       ${client.clientId}`,
        ...(clientSecret ? [`  client_secret   ${clientSecret}`] : []),
        `  auth method     ${client.tokenEndpointAuthMethod}`,
        `  grant types     ${client.grantTypes.join(', ')}`,
        `  redirect URIs   ${client.redirectUris.map(printable).join('\n                  ')}`,
        ...(clientSecret ? ['The client secret is shown only this once; only its hash is stored.'] : []),
        '',
      ].join('\n'),
    );
  },
};
