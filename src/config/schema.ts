import { z } from 'zod';
import { trustedProxiesSchema } from '../http/client-address.ts';
import { authorizationServerSchema, resourcesSchema } from './authorization-server.ts';
import { clientIdMetadataDocumentsSchema, dangerouslyAllowPrivateNetworkFetchesSchema } from './client-metadata-documents.ts';
import { trustedIdentityProvidersSchema } from './enterprise.ts';
import { identityProviderSchema } from './identity-provider.ts';
import { upstreamSchema } from './upstream.ts';

/**
 * The configuration schema is the single source of truth for settings, their defaults and their
 * documentation: `npm run docs:config` renders docs/configuration.md from these descriptions, and a
 * test fails when the two drift apart. Each setting names the environment variable that sets it.
 */

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

export const scopeSchema = z.object({
  name: z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope is printable ASCII without spaces, quotes or backslashes'),
  description: z.string().min(1),
});

export const configSchema = z.object({
  publicUrl: z
    .url()
    .optional()
    .describe(
      'PORTCULLIS_PUBLIC_URL. The origin clients reach this server at, e.g. `https://mcp.example.com`. It is the issuer and the base of every advertised URL. Default: `http://localhost:<port>`. Set it behind a reverse proxy: forwarded headers are never trusted.',
    ),
  host: z.string().default('127.0.0.1').describe('HOST. The interface to listen on. Use `0.0.0.0` inside a container.'),
  port: z.number().int().min(0).max(65535).default(3000).describe('PORT. The TCP port to listen on.'),
  mcpPath: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\-/]*[A-Za-z0-9._~-]$/, 'mcpPath must start with / and not end with /')
    .default('/mcp')
    .describe('PORTCULLIS_MCP_PATH. The path of the MCP endpoint; the protected resource is `<publicUrl><mcpPath>`.'),
  database: z
    .string()
    .default('./data/portcullis.db')
    .describe(
      'PORTCULLIS_DATABASE (or DATABASE_URL). A SQLite file path (created with its folder if missing), `:memory:` for a throwaway store, or a `postgres://` URL to share one database between many instances.',
    ),
  initialAdminPasswordFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      "PORTCULLIS_INITIAL_ADMIN_PASSWORD_FILE (or `start --admin-password-file`). On the first start, write the generated password of the administrator `admin` to this file, readable only by the server's user (mode 0600, its folder created 0700 if missing), and print only its path. Without it the password is printed once on stdout, which a service manager's log (journald, `docker logs`) may keep.",
    ),
  serverName: z.string().min(1).max(80).default('Portcullis').describe('PORTCULLIS_SERVER_NAME. The name shown on login and consent pages and to MCP clients.'),
  logoUrl: z.url().optional().describe('PORTCULLIS_LOGO_URL. An https URL of a logo shown on the pages.'),
  accentColor: z
    .string()
    .regex(/^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/)
    .optional()
    .describe('PORTCULLIS_ACCENT_COLOR. The pages\' accent colour as `#rgb` or `#rrggbb`.'),
  scopes: z
    .array(scopeSchema)
    .min(1)
    .default([
      { name: 'tasks:read', description: 'See your task list' },
      { name: 'tasks:write', description: 'Add, complete and delete tasks in your task list' },
    ])
    .describe('Config file only. The scopes this server offers, each with the description shown on the consent page.'),
  defaultScopes: z
    .array(z.string())
    .default(['tasks:read'])
    .describe('PORTCULLIS_DEFAULT_SCOPES (space-separated). Scopes granted when an authorization request names none.'),
  accessTokenTtl: seconds(60, 86_400).default(3600).describe('PORTCULLIS_ACCESS_TOKEN_TTL. Access token lifetime in seconds.'),
  refreshTokenIdleTtl: seconds(300, 31_536_000)
    .default(30 * 86_400)
    .describe('PORTCULLIS_REFRESH_TOKEN_IDLE_TTL. A refresh token unused for this many seconds expires.'),
  refreshTokenAbsoluteTtl: seconds(300, 5 * 31_536_000)
    .default(180 * 86_400)
    .describe('PORTCULLIS_REFRESH_TOKEN_ABSOLUTE_TTL. No grant outlives this many seconds, however often it is refreshed.'),
  refreshGracePeriod: seconds(0, 300)
    .default(30)
    .describe(
      'PORTCULLIS_REFRESH_GRACE_PERIOD. Seconds during which a retry of an already-rotated refresh token gets the same successor instead of revoking the grant (network retries, concurrent tabs). 0 is strict OAuth 2.1 reuse detection.',
    ),
  authorizationCodeTtl: seconds(10, 600).default(60).describe('PORTCULLIS_AUTHORIZATION_CODE_TTL. Authorization code lifetime in seconds (at most 10 minutes).'),
  signingAlgorithm: z
    .enum(['ES256', 'RS256'])
    .default('ES256')
    .describe('PORTCULLIS_SIGNING_ALG. Access token signing algorithm. ES256 signs ~5x faster; RS256 is there for verifiers that know nothing else.'),
  registration: z
    .object({
      enabled: z.boolean().default(true),
      perMinute: z.number().int().min(1).default(20),
    })
    .default({ enabled: true, perMinute: 20 })
    .describe('PORTCULLIS_REGISTRATION (`on`/`off`), PORTCULLIS_REGISTRATION_PER_MINUTE. Dynamic client registration (RFC 7591) and its per-address rate limit.'),
  clientIdMetadataDocuments: clientIdMetadataDocumentsSchema,
  loginSessionTtl: seconds(60, 30 * 86_400).default(12 * 3600).describe('PORTCULLIS_LOGIN_SESSION_TTL. How long a browser stays signed in, in seconds.'),
  mcpSessionIdleTtl: seconds(30, 86_400).default(1800).describe('PORTCULLIS_MCP_SESSION_IDLE_TTL. An MCP session idle for this many seconds is closed.'),
  allowedOrigins: z
    .array(z.string())
    .default([])
    .describe(
      'PORTCULLIS_ALLOWED_ORIGINS (comma-separated). Browser origins, besides this server\'s own, allowed to call the MCP endpoint. Requests with any other `Origin` get 403 (DNS-rebinding defence).',
    ),
  trustedProxies: trustedProxiesSchema,
  identityProvider: identityProviderSchema,
  trustedIdentityProviders: trustedIdentityProvidersSchema,
  upstream: upstreamSchema,
  authorizationServer: authorizationServerSchema,
  resources: resourcesSchema,
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('LOG_LEVEL. debug, info, warn or error.'),
  dangerouslyAllowInsecureHttp: z
    .boolean()
    .default(false)
    .describe('PORTCULLIS_DANGEROUSLY_ALLOW_INSECURE_HTTP. Allow an `http:` public URL on a non-loopback host. Tokens then cross the network in clear text.'),
  dangerouslyAllowPrivateNetworkFetches: dangerouslyAllowPrivateNetworkFetchesSchema,
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type ScopeDefinition = z.output<typeof scopeSchema>;
