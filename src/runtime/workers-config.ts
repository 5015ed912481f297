import { loadConfigInput } from '../config/env.ts';
import { ConfigError, resolveConfig, type ResolvedConfig } from '../config/resolve.ts';
import { KEK_SETTING } from '../keys/key-encryption.ts';
import { MIN_PASSWORD_LENGTH } from '../identity/users.ts';

/**
 * The password of the first administrator on Workers, where no start-up output reaches anyone: a
 * secret the operator chose (`wrangler secret put`), used once, on a database without accounts.
 * `npm run dev:workers` sets it to a generated password and prints that.
 */
export const INITIAL_ADMIN_PASSWORD = 'PORTCULLIS_INITIAL_ADMIN_PASSWORD';

/**
 * Settings that name something a Worker does not have, each with what to do instead. Refused rather
 * than ignored: an operator who set one expects it to matter.
 */
const NODE_ONLY: Record<string, string> = {
  PORTCULLIS_DATABASE: 'the database is the D1 binding `DB` in wrangler.jsonc',
  DATABASE_URL: 'the database is the D1 binding `DB` in wrangler.jsonc',
  PORTCULLIS_CONFIG: 'a Worker has no files: set each setting as a variable (`vars` in wrangler.jsonc) or a secret',
  PORTCULLIS_KEY_ENCRYPTION_KEY_FILE: `a Worker has no files: set ${KEK_SETTING} with \`wrangler secret put\``,
  PORTCULLIS_INITIAL_ADMIN_PASSWORD_FILE: `a Worker has no files: set ${INITIAL_ADMIN_PASSWORD} with \`wrangler secret put\``,
  PORTCULLIS_TRUSTED_PROXIES: 'on Workers the client address is the one Cloudflare gives (CF-Connecting-IP)',
  PORTCULLIS_UPSTREAM_COMMAND:
    'the stdio gateway starts a process per session, which a Worker cannot do: put the MCP server behind HTTP and set REMOTE_MCP_SERVER_URL, or run Portcullis on Node',
};

/** What a Worker's variables and secrets configure. */
export interface WorkersSettings {
  config: ResolvedConfig;
  /** `PORTCULLIS_INITIAL_ADMIN_PASSWORD`, when set. */
  initialAdminPassword: string | undefined;
}

/**
 * Settings from the Worker's environment: the same variable names as on Node (docs/configuration.md),
 * seed 2's where they mean the same (`STYTCH_*`, `REMOTE_MCP_SERVER_URL`, `IDENTITY_PROVIDER`), with
 * what only Node has refused by name. Bindings that are not text (D1, Durable Objects) are skipped.
 */
export function workersSettings(env: Readonly<Record<string, unknown>>): WorkersSettings {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === 'string' && value !== '') text[name] = value;
  for (const [name, instead] of Object.entries(NODE_ONLY)) {
    if (text[name] !== undefined) throw new ConfigError(`${name} cannot be used on Cloudflare Workers: ${instead}.`);
  }
  if (!text.PORTCULLIS_PUBLIC_URL) {
    throw new ConfigError('Set PORTCULLIS_PUBLIC_URL (in `vars` of wrangler.jsonc) to the URL the Worker is reached at, e.g. https://portcullis.example.workers.dev');
  }
  // The Worker's own variable is no setting of the app: the loader is not shown it.
  const { [INITIAL_ADMIN_PASSWORD]: initialAdminPassword, ...settings } = text;
  const config = resolveConfig(loadConfigInput(settings, undefined));
  if (!config.keyEncryptionKey) {
    throw new ConfigError(
      `Set ${KEK_SETTING}: the signing keys in D1 are encrypted with it. \`openssl rand -base64 32 | npx wrangler secret put ${KEK_SETTING}\` (keep a copy: without it the keys in D1 cannot be read).`,
    );
  }
  if (initialAdminPassword !== undefined && initialAdminPassword.length < MIN_PASSWORD_LENGTH) {
    throw new ConfigError(`Invalid setting ${INITIAL_ADMIN_PASSWORD}: a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  return { config, initialAdminPassword };
}
