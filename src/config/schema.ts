import { z } from 'zod';
import { trustedProxiesSchema } from '../http/client-address.ts';
import { authorizationServerSchema, resourcesSchema } from './authorization-server.ts';
import { clientIdMetadataDocumentsSchema, dangerouslyAllowPrivateNetworkFetchesSchema } from './client-metadata-documents.ts';
import { trustedIdentityProvidersSchema } from './enterprise.ts';
import { identityProviderSchema } from './identity-provider.ts';
import { metricsSchema } from './metrics.ts';
import { toolPolicySchema } from './tool-policy.ts';
import { stytchAuthorizationPageSchema } from './stytch-authorization-page.ts';
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
  keyEncryptionKey: z
    .string()
    .regex(/^[A-Za-z0-9+/_-]{43}=?$/, 'expected 32 random bytes in base64url (43 characters), e.g. the output of `openssl rand -base64 32`')
    .optional()
    .describe(
      'PORTCULLIS_KEY_ENCRYPTION_KEY. The key-encryption key: 32 random bytes in base64url (`openssl rand -base64 32`). The signing keys and server keys in the database are encrypted with it, so a copy of the database alone cannot mint or derive a credential. Default for a SQLite file: a key generated on first start into `<database>.key` next to it, readable only by the server\'s user (the server refuses to start if others can read it); keep that file out of the database\'s backups, or back it up separately. Required for PostgreSQL, the same on every instance. `:memory:` uses a key that lives as long as the process. Rotation: set the new key here and the old one in PORTCULLIS_PREVIOUS_KEY_ENCRYPTION_KEYS, restart, run `portcullis keys rewrap`, then drop the old one.',
    ),
  keyEncryptionKeyFile: z
    .string()
    .min(1)
    .optional()
    .describe('PORTCULLIS_KEY_ENCRYPTION_KEY_FILE. Instead of PORTCULLIS_KEY_ENCRYPTION_KEY: a file holding the key, e.g. a container secret mount. It must exist.'),
  previousKeyEncryptionKeys: z
    .array(z.string().regex(/^[A-Za-z0-9+/_-]{43}=?$/, 'expected 32 random bytes in base64url (43 characters)'))
    .optional()
    .describe(
      'PORTCULLIS_PREVIOUS_KEY_ENCRYPTION_KEYS (comma-separated). Earlier key-encryption keys, accepted for reading while they are rotated out: `portcullis keys rewrap` re-encrypts everything with the current key, after which they can go.',
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
    .optional()
    .describe(
      'PORTCULLIS_DEFAULT_SCOPES (space-separated). Scopes granted when an authorization request names none, and named in the first 401 challenge of the MCP endpoint. ' +
        'Unset (the default): every declared scope, so that a client that never steps up (many do not) can use every tool the person may use. ' +
        'Set it for least privilege, e.g. `tasks:read`: clients then start with those and step up to more when a tool needs it (403 `insufficient_scope`).',
    ),
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
  dpopRequired: z
    .boolean()
    .default(false)
    .describe(
      'PORTCULLIS_DPOP_REQUIRED. Every access token must be sender-constrained with DPoP (RFC 9449): the token endpoint refuses requests without a proof, and the MCP endpoint refuses bearer tokens. Off: clients choose, and bearer clients keep working beside DPoP ones.',
    ),
  dpopNonces: z
    .boolean()
    .default(false)
    .describe(
      'PORTCULLIS_DPOP_NONCES. DPoP proofs must carry a server nonce (RFC 9449 section 8 and 9), handed out in DPoP-Nonce: a proof cannot be made ahead of time, at the cost of one extra round trip when a nonce expires (every 5 to 10 minutes).',
    ),
  authorizationCodeTtl: seconds(10, 600).default(60).describe('PORTCULLIS_AUTHORIZATION_CODE_TTL. Authorization code lifetime in seconds (at most 10 minutes).'),
  signingAlgorithm: z
    .enum(['ES256', 'RS256'])
    .default('ES256')
    .describe('PORTCULLIS_SIGNING_ALG. Access token signing algorithm. ES256 signs ~5x faster; RS256 is there for verifiers that know nothing else.'),
  authorizePerMinute: z
    .number()
    .int()
    .min(1)
    .default(60)
    .describe(
      'PORTCULLIS_AUTHORIZE_PER_MINUTE. Authorization requests (`/authorize`, and the consent that sends a browser to an upstream identity provider) one address may make per minute; past it, 429 with Retry-After. Counted in the database, so every instance on it shares the limit.',
    ),
  tokenPerMinute: z
    .number()
    .int()
    .min(1)
    .default(300)
    .describe(
      'PORTCULLIS_TOKEN_PER_MINUTE. Token requests (`/token`) one address may make per minute; past it, 429 with Retry-After. Counted in the database, so every instance on it shares the limit.',
    ),
  registration: z
    .object({
      enabled: z.boolean().default(true),
      perMinute: z.number().int().min(1).default(20),
      maxClients: z.number().int().min(1).max(10_000_000).default(10_000),
      unusedClientTtl: seconds(600, 31_536_000).default(24 * 3600),
      idleClientTtl: seconds(3600, 5 * 31_536_000).default(30 * 86_400),
    })
    .default({ enabled: true, perMinute: 20, maxClients: 10_000, unusedClientTtl: 24 * 3600, idleClientTtl: 30 * 86_400 })
    .describe(
      'PORTCULLIS_REGISTRATION (`on`/`off`), PORTCULLIS_REGISTRATION_PER_MINUTE, PORTCULLIS_REGISTRATION_MAX_CLIENTS, PORTCULLIS_REGISTRATION_UNUSED_CLIENT_TTL, PORTCULLIS_REGISTRATION_IDLE_CLIENT_TTL. Dynamic client registration (RFC 7591): its per-address rate limit (`perMinute`); at most `maxClients` self-registered clients, where at the limit the oldest one that never completed an authorization (and is over 10 minutes old) makes room for a new one; self-registered clients that never completed an authorization are removed after `unusedClientTtl` seconds (default 1 day), and those with no live grant whose last authorization is older than `idleClientTtl` seconds (default 30 days). Clients added with `portcullis clients add` are never capped or removed. `portcullis clients prune` applies the same rules at once.',
    ),
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
  toolPolicy: toolPolicySchema,
  authorizationServer: authorizationServerSchema,
  resources: resourcesSchema,
  stytchAuthorizationPage: stytchAuthorizationPageSchema,
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('LOG_LEVEL. debug, info, warn or error.'),
  logFormat: z
    .enum(['json', 'pretty'])
    .default('json')
    .describe('LOG_FORMAT. `json`: one JSON object a line, for a log collector. `pretty`: time, level, message and fields in columns, for a terminal.'),
  metrics: metricsSchema,
  dangerouslyAllowInsecureHttp: z
    .boolean()
    .default(false)
    .describe('PORTCULLIS_DANGEROUSLY_ALLOW_INSECURE_HTTP. Allow an `http:` public URL on a non-loopback host. Tokens then cross the network in clear text.'),
  dangerouslyAllowPrivateNetworkFetches: dangerouslyAllowPrivateNetworkFetchesSchema,
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type ScopeDefinition = z.output<typeof scopeSchema>;
