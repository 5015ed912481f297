import { readFileSync } from 'node:fs';
import { AUTHORIZATION_SERVER_ENV } from './authorization-server-env.ts';
import { CLIENT_METADATA_DOCUMENTS_ENV } from './client-metadata-documents-env.ts';
import { ENTERPRISE_ENV } from './enterprise.ts';
import { envBool, envInt, envCommaList, envWords } from './env-values.ts';
import { IDENTITY_PROVIDER_ENV } from './identity-provider-env.ts';
import { METRICS_ENV } from './metrics.ts';
import { ConfigError } from './config-error.ts';
import { configSchema, type ConfigInput } from './schema.ts';
import { unknownEnvVariables, unknownFileSettings } from './unknown-settings.ts';
import { TOOL_POLICY_ENV } from './tool-policy-env.ts';
import { STYTCH_AUTHORIZATION_PAGE_ENV } from './stytch-authorization-page-env.ts';
import { UPSTREAM_ENV } from './upstream-env.ts';

type Env = Record<string, string | undefined>;


/** Environment variable → setting. The schema's descriptions name these variables too. */
export const ENV: Record<string, (input: ConfigInput, value: string, name: string) => void> = {
  PORTCULLIS_PUBLIC_URL: (c, v) => void (c.publicUrl = v.replace(/\/+$/, '')),
  HOST: (c, v) => void (c.host = v),
  PORT: (c, v, n) => void (c.port = envInt(n, v)),
  PORTCULLIS_MCP_PATH: (c, v) => void (c.mcpPath = v),
  DATABASE_URL: (c, v) => void (c.database = v),
  PORTCULLIS_DATABASE: (c, v) => void (c.database = v),
  PORTCULLIS_KEY_ENCRYPTION_KEY: (c, v) => void (c.keyEncryptionKey = v.trim()),
  PORTCULLIS_KEY_ENCRYPTION_KEY_FILE: (c, v) => void (c.keyEncryptionKeyFile = v),
  PORTCULLIS_PREVIOUS_KEY_ENCRYPTION_KEYS: (c, v) => void (c.previousKeyEncryptionKeys = envCommaList(v)),
  PORTCULLIS_INITIAL_ADMIN_PASSWORD_FILE: (c, v) => void (c.initialAdminPasswordFile = v),
  PORTCULLIS_SERVER_NAME: (c, v) => void (c.serverName = v),
  PORTCULLIS_LOGO_URL: (c, v) => void (c.logoUrl = v),
  PORTCULLIS_ACCENT_COLOR: (c, v) => void (c.accentColor = v),
  PORTCULLIS_DEFAULT_SCOPES: (c, v) => void (c.defaultScopes = envWords(v)),
  PORTCULLIS_ACCESS_TOKEN_TTL: (c, v, n) => void (c.accessTokenTtl = envInt(n, v)),
  PORTCULLIS_REFRESH_TOKEN_IDLE_TTL: (c, v, n) => void (c.refreshTokenIdleTtl = envInt(n, v)),
  PORTCULLIS_REFRESH_TOKEN_ABSOLUTE_TTL: (c, v, n) => void (c.refreshTokenAbsoluteTtl = envInt(n, v)),
  PORTCULLIS_REFRESH_GRACE_PERIOD: (c, v, n) => void (c.refreshGracePeriod = envInt(n, v)),
  PORTCULLIS_DPOP_REQUIRED: (c, v, n) => void (c.dpopRequired = envBool(n, v)),
  PORTCULLIS_DPOP_NONCES: (c, v, n) => void (c.dpopNonces = envBool(n, v)),
  PORTCULLIS_AUTHORIZATION_CODE_TTL: (c, v, n) => void (c.authorizationCodeTtl = envInt(n, v)),
  PORTCULLIS_SIGNING_ALG: (c, v) => void (c.signingAlgorithm = v as 'ES256'),
  PORTCULLIS_AUTHORIZE_PER_MINUTE: (c, v, n) => void (c.authorizePerMinute = envInt(n, v)),
  PORTCULLIS_TOKEN_PER_MINUTE: (c, v, n) => void (c.tokenPerMinute = envInt(n, v)),
  PORTCULLIS_REGISTRATION: (c, v, n) => void (c.registration = { ...c.registration, enabled: envBool(n, v) }),
  PORTCULLIS_REGISTRATION_PER_MINUTE: (c, v, n) => void (c.registration = { ...c.registration, perMinute: envInt(n, v) }),
  PORTCULLIS_REGISTRATION_MAX_CLIENTS: (c, v, n) => void (c.registration = { ...c.registration, maxClients: envInt(n, v) }),
  PORTCULLIS_REGISTRATION_UNUSED_CLIENT_TTL: (c, v, n) => void (c.registration = { ...c.registration, unusedClientTtl: envInt(n, v) }),
  PORTCULLIS_REGISTRATION_IDLE_CLIENT_TTL: (c, v, n) => void (c.registration = { ...c.registration, idleClientTtl: envInt(n, v) }),
  PORTCULLIS_LOGIN_SESSION_TTL: (c, v, n) => void (c.loginSessionTtl = envInt(n, v)),
  PORTCULLIS_MCP_SESSION_IDLE_TTL: (c, v, n) => void (c.mcpSessionIdleTtl = envInt(n, v)),
  PORTCULLIS_ALLOWED_ORIGINS: (c, v) => void (c.allowedOrigins = envCommaList(v)),
  PORTCULLIS_TRUSTED_PROXIES: (c, v) => void (c.trustedProxies = envCommaList(v)),
  ...IDENTITY_PROVIDER_ENV,
  ...ENTERPRISE_ENV,
  ...UPSTREAM_ENV,
  ...TOOL_POLICY_ENV,
  ...AUTHORIZATION_SERVER_ENV,
  ...STYTCH_AUTHORIZATION_PAGE_ENV,
  ...CLIENT_METADATA_DOCUMENTS_ENV,
  LOG_LEVEL: (c, v) => void (c.logLevel = v as 'info'),
  LOG_FORMAT: (c, v) => void (c.logFormat = v.trim().toLowerCase() as 'json'),
  ...METRICS_ENV,
  PORTCULLIS_DANGEROUSLY_ALLOW_INSECURE_HTTP: (c, v, n) => void (c.dangerouslyAllowInsecureHttp = envBool(n, v)),
};

export const ENV_VARS = Object.keys(ENV);

/** Settings from an optional JSON file, then the environment (which wins). */
export function loadConfigInput(env: Env = process.env, file = env.PORTCULLIS_CONFIG): ConfigInput {
  let input: ConfigInput = {};
  if (file) {
    try {
      input = JSON.parse(readFileSync(file, 'utf8')) as ConfigInput;
    } catch (e) {
      throw new ConfigError(`Cannot read config file ${file} (PORTCULLIS_CONFIG): ${(e as Error).message}`);
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ConfigError(`The config file ${file} (PORTCULLIS_CONFIG) must hold one JSON object whose keys are settings (docs/configuration.md)`);
    }
  }
  const unknown = [...(file ? unknownFileSettings(configSchema, input, file) : []), ...unknownEnvVariables(env)];
  if (unknown.length > 0) throw new ConfigError(`${unknown.join('\n')}\nThe settings and their variables are listed in docs/configuration.md.`);
  input = structuredClone(input);
  for (const [name, apply] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') apply(input, value, name);
  }
  return input;
}
