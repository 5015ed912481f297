import { readFileSync } from 'node:fs';
import { computeCapabilities } from '../../authorization/capabilities.ts';
import { registerClient, validateClientMetadata } from '../../authorization/clients/register-client.ts';
import { systemRandom } from '../../util/crypto.ts';
import { auditCreated } from '../../admin/actions.ts';
import { CLI_ACTOR, loadConfig, printable, withAdmin, type Command } from '../command.ts';

export const clientsAdd: Command = {
  name: 'clients add',
  summary: 'Register a client ahead of time (pre-registration)',
  usage:
    '--name <name> --redirect-uri <uri> [--redirect-uri <uri>…] [--confidential] [--grant refresh_token] [--scope "<scopes>"] [--dpop]\n' +
    '       --name <name> --grant client_credentials (--confidential | --jwks-uri <url> | --jwks-file <path>) [--scope "<scopes>"] [--dpop]',
  help: [
    'Options:',
    '  --name <name>           shown to users on the consent page',
    '  --redirect-uri <uri>    where users are sent back; repeat for several (https, http on',
    '                          localhost/127.0.0.1/[::1], or an app scheme such as cursor://)',
    '  --confidential          the client gets a secret and sends it with HTTP Basic',
    '  --auth-method <method>  none (default), client_secret_basic, client_secret_post or private_key_jwt',
    '  --jwks-uri <url>        private_key_jwt: the https URL of the client\'s public keys (JWK Set)',
    '  --jwks-file <path>      private_key_jwt: a file holding the client\'s public keys (JWK Set JSON)',
    '  --grant <grant>         refresh_token: the client may refresh its tokens;',
    '                          client_credentials: a machine client that gets tokens for itself, no',
    '                          user and no redirect URI (needs --confidential or keys);',
    '                          urn:ietf:params:oauth:grant-type:jwt-bearer: enterprise ID-JAGs',
    '                          (authorization_code is on whenever redirect URIs are given)',
    '  --scope "<scopes>"      the scopes it may ask for, space-separated (default: any)',
    '  --dpop                  the client must use DPoP (RFC 9449 dpop_bound_access_tokens): its',
    '                          token requests without a DPoP proof are refused',
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
    'jwks-uri': { type: 'string' },
    'jwks-file': { type: 'string' },
    dpop: { type: 'boolean', default: false },
  },
  async run({ values }, io) {
    const config = loadConfig(io);
    const jwksUri = values['jwks-uri'] as string | undefined;
    const jwks = values['jwks-file'] === undefined ? undefined : readJwksFile(values['jwks-file'] as string);
    const hasKeys = jwksUri !== undefined || jwks !== undefined;
    const authMethod = (values['auth-method'] as string | undefined) ?? (hasKeys ? 'private_key_jwt' : values.confidential ? 'client_secret_basic' : 'none');
    const redirectUris = (values['redirect-uri'] as string[] | undefined) ?? [];
    const grants = (values.grant as string[] | undefined) ?? [];
    // A machine client (client_credentials alone) has no redirect URI and no authorization_code.
    const grantTypes = redirectUris.length === 0 && grants.length > 0 ? grants : ['authorization_code', ...grants];
    // Same validation as dynamic registration, so a pre-registered client obeys the same rules.
    const metadata = validateClientMetadata(
      {
        client_name: values.name,
        redirect_uris: redirectUris,
        token_endpoint_auth_method: authMethod,
        grant_types: grantTypes,
        scope: values.scope,
        jwks,
        jwks_uri: jwksUri,
        dpop_bound_access_tokens: values.dpop === true,
      },
      computeCapabilities(config),
      { preRegistered: true },
    );
    const { client, clientSecret } = await withAdmin(io, async (deps) => {
      const added = await registerClient({ storage: deps.storage, clock: deps.clock, random: systemRandom }, metadata, { source: 'cli' });
      auditCreated(deps, CLI_ACTOR, 'admin.client_added', { client_id: added.client.clientId, client_name: added.client.clientName });
      return added;
    });
    io.out(
      [
        `Created client "${printable(client.clientName)}".`,
        `  client_id       ${client.clientId}`,
        ...(clientSecret ? [`  client_secret   ${clientSecret}`] : []),
        `  auth method     ${client.tokenEndpointAuthMethod}`,
        `  grant types     ${client.grantTypes.join(', ')}`,
        ...(client.redirectUris.length > 0 ? [`  redirect URIs   ${client.redirectUris.map(printable).join('\n                  ')}`] : []),
        ...(client.jwksUri ? [`  jwks_uri        ${printable(client.jwksUri)}`] : []),
        ...(client.jwks ? [`  keys            ${client.jwks.keys.length} public key(s) stored`] : []),
        ...(client.dpopBoundAccessTokens ? ['  DPoP            required (token requests without a proof are refused)'] : []),
        ...(clientSecret ? ['The client secret is shown only this once; only its hash is stored.'] : []),
        '',
      ].join('\n'),
    );
  },
};

/** The JWK Set in a file: JSON, checked like a registration's `jwks` afterwards. */
function readJwksFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read --jwks-file ${path}: ${(error as Error).message}`);
  }
}
