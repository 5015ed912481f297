import { resolve } from 'node:path';
import type { ResolvedConfig } from '../config/resolve.ts';
import { externalAuthorizationServer, type ExternalAuthorizationServer } from '../config/authorization-server.ts';
import { stytchAuthorizationPage, stytchAuthorizationPageMissing } from '../config/stytch-authorization-page.ts';
import { describeUpstream, isUnauthenticatedRemoteUpstream } from '../config/upstream.ts';
import { createIdentityProvider, isUpstream, upstreamCallbackUrl } from '../identity/providers/index.ts';
import type { FirstAdmin } from './first-admin.ts';
import { defaultKeyFile } from '../keys/key-ring-source.ts';
import { LOOPBACK_HOSTS } from '../util/loopback.ts';
import { connectSnippets } from '../ui/connect-snippets.ts';

export interface BannerInput {
  config: ResolvedConfig;
  /** Where the server really listens, e.g. `127.0.0.1:3000`. */
  listening: string;
  firstAdmin: FirstAdmin | null;
  /** How the user runs the CLI: `portcullis` when installed, `npm run portcullis --` from a clone; null where it cannot reach the data (Workers). */
  cli: string | null;
  /** Where the data lives, when it is not `config.database` (Workers: the D1 database). */
  data?: string;
}

/** Where the data lives, for people: an absolute file path, or a database URL without its password. */
/** Where the key-encryption key lives when it is a file: the default one next to a SQLite file, or the one named. */
export function keyFileOf(config: Pick<ResolvedConfig, 'keyEncryptionKey' | 'keyEncryptionKeyFile' | 'database'>): string | null {
  if (config.keyEncryptionKey) return null;
  if (config.keyEncryptionKeyFile) return resolve(config.keyEncryptionKeyFile);
  if (config.database === ':memory:' || /^[a-z][a-z0-9+.-]*:\/\//i.test(config.database)) return null;
  return resolve(defaultKeyFile(config.database));
}

export function describeDatabase(database: string): string {
  if (database === ':memory:') return 'in memory: everything is lost when the process stops';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(database)) return withoutPassword(database);
  return resolve(database);
}

/** Query parameters that carry credentials in connection strings and API URLs (`?password=`, `?api_key=`…). */
const SECRET_PARAMETER = /pass|secret|token|key|auth|credential|signature|sig$/i;

/** A URL with its password and credential-looking query parameters replaced, so it can be printed. */
export function withoutPassword(value: string): string {
  try {
    const url = new URL(value);
    let changed = false;
    if (url.password) {
      url.password = '***';
      changed = true;
    }
    for (const name of [...url.searchParams.keys()]) {
      if (!SECRET_PARAMETER.test(name)) continue;
      url.searchParams.set(name, '***');
      changed = true;
    }
    return changed ? url.toString() : value;
  } catch {
    return value;
  }
}

/**
 * What a person reads when the server starts: the URL to paste into a client, where the data is,
 * the first administrator's password (first start only) and what to do next. Plain text, short;
 * the JSON logs follow it.
 */
export function renderStartupBanner({ config, listening, firstAdmin, cli, data }: BannerInput): string {
  const mcpUrl = config.resource;
  const issuer = new URL(config.issuer);
  const external = externalAuthorizationServer(config);
  // Resource-only mode has no sign-in here at all; otherwise users may sign in at an upstream provider.
  const signIn = external ? null : upstreamSignIn(config);
  const lines: string[] = [
    '',
    `${config.serverName} is running.`,
    '',
    `  MCP server URL   ${mcpUrl}`,
    ...(config.upstream ? [`  Gateway to       ${withoutPassword(describeUpstream(config.upstream))}`] : []),
    ...(external
      ? [
          `  Tokens from      ${external.issuer}  (${describeVerifier(external)})`,
          stytchAuthorizationPage(config)
            ? '  Authorization    at the server above: clients register there, and it sends people to this server\'s page to sign in and consent'
            : '  Authorization    off here: users sign in and clients register at the server above',
        ]
      : [`  Issuer           ${config.issuer}`]),
    ...(signIn ? [`  Sign-in          ${signIn.summary}`] : []),
    ...stytchPageLines(config),
    `  Data             ${data ?? describeDatabase(config.database)}`,
    ...(!data && keyFileOf(config) ? [`  Key file         ${keyFileOf(config)}  (decrypts the signing keys in Data: back it up, apart from Data)`] : []),
    `  Listening on     ${listening}`,
  ];

  if (firstAdmin) {
    lines.push('', '  First start: an administrator account was created.', `    username   ${firstAdmin.username}`);
    if ('passwordFile' in firstAdmin) {
      lines.push(
        `    password   in ${firstAdmin.passwordFile} (readable only by this user)`,
        '  Keep it somewhere safe, then delete the file.',
      );
    } else {
      lines.push(
        `    password   ${firstAdmin.password}`,
        '  This password is shown only this once. Keep it somewhere safe.',
        ...(cli
          ? [
              "  A service manager's log (journald, docker logs) may keep this output: change the password with",
              `  ${cli} users passwd admin, or set PORTCULLIS_INITIAL_ADMIN_PASSWORD_FILE to get it in a file.`,
            ]
          : []),
      );
    }
  }
  if (signIn) lines.push('', ...signIn.registration.map((line) => `  ${line}`));

  const warnings: string[] = [];
  if (issuer.protocol === 'http:' && !LOOPBACK_HOSTS.has(issuer.hostname)) {
    warnings.push(`WARNING: ${config.issuer} is plain http on a network address: tokens and passwords cross the network in clear text.`);
  }
  if (LOOPBACK_HOSTS.has(issuer.hostname) && !LOOPBACK_HOSTS.has(config.host)) {
    warnings.push(`Note: listening on ${config.host}, but the public URL is ${config.issuer}. Set PORTCULLIS_PUBLIC_URL so other machines get working links.`);
  }
  if (config.upstream && isUnauthenticatedRemoteUpstream(config.upstream)) {
    warnings.push(`WARNING: the gateway sends no credential to ${config.upstream.url}: anyone who can reach it there bypasses OAuth. Set PORTCULLIS_UPSTREAM_TOKEN.`);
  }
  if (external?.verifier === 'stytch' && !external.stytchStrictAudience) {
    warnings.push('Note: Stytch tokens name only the project in aud, so any access token of the project is accepted here. Give the Connected App this MCP URL as custom audience and set PORTCULLIS_STYTCH_STRICT_AUDIENCE=true.');
  }
  if (warnings.length) lines.push('', ...warnings.map((w) => `  ${w}`));

  lines.push(
    '',
    'Connect a client (it opens a browser for you to sign in):',
    ...connectSnippets(mcpUrl, config.serverName).map((c) => `  ${c.client.padEnd(15)}${c.text}${c.file ? ` in ${c.file}` : ''}`),
  );
  if (issuer.protocol === 'https:') lines.push(`  Claude, ChatGPT  add ${mcpUrl} as a custom connector`);
  lines.push('');
  // Resource-only mode keeps no accounts: users are the external authorization server's, or the
  // upstream identity provider's (they are created at their first sign-in there).
  if (cli) {
    if (!external && !signIn) lines.push(`Add a user:      ${cli} users add <name>`);
    lines.push(`More commands:   ${cli} --help`, '');
  }
  return lines.join('\n') + '\n';
}

interface UpstreamSignIn {
  /** Who users sign in with, for the summary block. */
  summary: string;
  /** What the operator must register at the provider before anyone can sign in (UP-03: an exact callback). */
  registration: string[];
}

/** With an upstream identity provider: who users sign in with, and the callback to register there. */
function upstreamSignIn(config: ResolvedConfig): UpstreamSignIn | null {
  const provider = createIdentityProvider(config);
  if (!isUpstream(provider)) return null;
  const callback = upstreamCallbackUrl(config);
  const { oidc, stytch } = config.identityProvider;
  if (provider.kind === 'stytch') {
    return {
      summary: `${provider.displayName}, through Stytch (${stytch?.projectId ?? 'project'})`,
      registration: [
        'Before the first sign-in, add this URL in the Stytch dashboard (Redirect URLs) as a Login AND a Sign-up redirect URL:',
        `  ${callback}?tx={}`,
        '({} matches any value: each login carries its own transaction handle there.)',
      ],
    };
  }
  return {
    summary: `${provider.displayName} (OpenID Connect, ${oidc?.issuer ?? 'issuer'})`,
    registration: [`Before the first sign-in, register this redirect URI for client ${oidc?.clientId ?? ''} at the provider:`, `  ${callback}`],
  };
}

/** Seed 1 with Stytch: the page to paste into the dashboard, and the login redirect URL it needs. */
function stytchPageLines(config: ResolvedConfig): string[] {
  const page = stytchAuthorizationPage(config);
  if (!page) {
    const missing = stytchAuthorizationPageMissing(config);
    return missing ? [`  Authorization URL  off: ${missing}`] : [];
  }
  const url = `${config.issuer}${page.path}`;
  const paste = [`  Authorization URL  ${url}`, '    paste it in the Stytch dashboard: Connected Apps → Authorization URL'];
  const { signIn } = page;
  switch (signIn.kind) {
    case 'stytch-email':
      return [...paste, '    (people sign in with a code Stytch emails them)'];
    case 'stytch-oauth':
      return [...paste, `    and add ${url}/callback?tx={} under Redirect URLs as a Login and a Sign-up URL`];
    case 'local':
    case 'oidc':
      return [
        ...paste,
        signIn.kind === 'oidc'
          ? `    people sign in at ${config.identityProvider.oidc?.issuer ?? ''}: register ${url}/callback there as a redirect URI for client ${config.identityProvider.oidc?.clientId ?? ''},`
          : `    people sign in with accounts of this server (users add),`,
        `    vouched for by Trusted Auth Token profile ${signIn.trustedAuthTokenProfileId}: issuer ${config.issuer}, audience ${url},`,
        `    JWKS URL ${config.issuer}/jwks, token_id from sub, email from email, just-in-time provisioning on`,
      ];
  }
}

/** How resource-only mode checks tokens, for the operator. */
function describeVerifier(settings: ExternalAuthorizationServer): string {
  switch (settings.verifier) {
    case 'jwks':
      return `JWT access tokens checked with ${settings.jwksUrl ?? 'the JWKS named in its metadata'}`;
    case 'introspection':
      return `tokens checked at ${settings.introspection?.endpoint ?? 'the introspection endpoint named in its metadata'}`;
    case 'stytch':
      return 'Stytch Connected Apps tokens';
  }
}
