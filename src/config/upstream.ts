import { z } from 'zod';
import { CommandLineError, parseCommandLine } from '../gateway/stdio/command.ts';
import type { ConfigInput, ParsedConfig } from './schema.ts';
import { LOOPBACK_HOSTS } from '../util/loopback.ts';

/**
 * The `upstream` setting: gateway mode. When it is set, Portcullis fronts an existing MCP server
 * (Streamable HTTP at `url`, or a stdio server started from `command`) instead of serving its
 * built-in tools; discovery, challenges and scopes stay exactly as in the core.
 */

/** RFC 9110 §5.1 field-name (token). */
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a header name is an RFC 9110 token, e.g. X-Portcullis-Subject');
const scopeName = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope is printable ASCII without spaces, quotes or backslashes');

export const DEFAULT_IDENTITY_HEADERS = { subject: 'X-Portcullis-Subject', client: 'X-Portcullis-Client', scopes: 'X-Portcullis-Scopes' } as const;

/** The scope a gateway asks for when the operator declares none: "use the tools of this server". */
export const GATEWAY_SCOPE = 'mcp';

export const upstreamSchema = z
  .object({
    url: z.url().optional(),
    command: z.string().trim().min(1).optional(),
    bearerToken: z.string().min(1).optional(),
    secretHeaders: z.record(headerName, z.string()).default({}),
    identityHeaders: z
      .union([z.literal(false), z.object({ subject: headerName, client: headerName, scopes: headerName })])
      .default(DEFAULT_IDENTITY_HEADERS),
    requiredScopes: z.array(scopeName).min(1).default([GATEWAY_SCOPE]),
    toolScopes: z.record(z.string().min(1), z.array(scopeName).min(1)).default({}),
    passEnv: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')).default([]),
    timeout: z.number().int().min(1).max(600).default(30),
    streamIdleTimeout: z.number().int().min(10).max(86_400).default(300),
    dangerouslyAllowInsecureHttp: z.boolean().default(false),
  })
  .optional()
  .describe(
    'PORTCULLIS_UPSTREAM_URL (or REMOTE_MCP_SERVER_URL, where a bare origin means `<origin>/mcp` as in seed 2), PORTCULLIS_UPSTREAM_COMMAND, ' +
      'PORTCULLIS_UPSTREAM_TOKEN (or REMOTE_MCP_AUTH_TOKEN), PORTCULLIS_UPSTREAM_AUTHORIZATION, PORTCULLIS_UPSTREAM_IDENTITY_HEADERS (`on`/`off`), ' +
      'PORTCULLIS_UPSTREAM_REQUIRED_SCOPES (space-separated), PORTCULLIS_UPSTREAM_PASS_ENV (comma-separated), PORTCULLIS_UPSTREAM_TIMEOUT, ' +
      'PORTCULLIS_UPSTREAM_STREAM_IDLE_TIMEOUT, PORTCULLIS_UPSTREAM_DANGEROUSLY_ALLOW_INSECURE_HTTP; `portcullis start --upstream <url>` or `--upstream-command "<command>"`. ' +
      'Gateway mode: put OAuth in front of an existing MCP server, whose tools replace the built-in ones. ' +
      '`url` is a Streamable HTTP MCP endpoint (https, or http on a loopback host); `command` is a stdio MCP server, split into words like a shell would (quotes, backslashes) but never run by a shell, ' +
      'started once per MCP session with a minimal environment (PATH, HOME, USER, LANG, TMPDIR and their Windows counterparts) plus the variables named in `passEnv`, and stopped when the session ends or idles out; 2026-07-28 clients are answered that only 2025 revisions are served, and they fall back to a session. ' +
      'The gateway never forwards the client\'s token (MCP RS-19): it authenticates to an HTTP upstream with `bearerToken` (sent as `Authorization: Bearer …`) or `secretHeaders` ' +
      '(config file; PORTCULLIS_UPSTREAM_AUTHORIZATION sets its `Authorization`), and tells it who is calling in `identityHeaders` (the token\'s subject, client id and space-separated scopes; ' +
      'values percent-encoded like decodeURIComponent reads them, so plain ASCII ids arrive unchanged; `false` sends none). Copies of those headers sent by a client are dropped. ' +
      'Every request needs `requiredScopes`; `toolScopes` (config file) maps a tool name to further scopes its `tools/call` needs (403 `insufficient_scope` otherwise). ' +
      'With no `scopes` declared, the server offers one scope, `mcp`, and grants it by default. ' +
      '`timeout`: seconds to wait for the upstream to start answering (connection and response headers; for a stdio server, its answer to `initialize`, so allow for `npx -y` downloading the package on a first start): 502 when it fails, 504 when it is late. ' +
      '`streamIdleTimeout`: seconds a response stream may stay silent before the gateway closes it. ' +
      'There is no legacy HTTP+SSE endpoint (`/sse`, `/messages`) and nothing that discloses the upstream.',
  );

export type UpstreamSettings = NonNullable<z.output<typeof upstreamSchema>>;

/** Headers the gateway owns on the way upstream: a configured secret header may not replace them. */
const RESERVED_HEADERS = /^(host|content-length|content-type|accept|connection|keep-alive|te|trailer|transfer-encoding|upgrade|proxy-.*|mcp-.*|last-event-id)$/i;

/**
 * Gateway mode without declared scopes: one scope, `mcp`, granted by default, so that a token is
 * for "the tools of this server" (MCP BP-09: a minimal `scopes_supported`). Never overrides what
 * the operator declared.
 */
export function withGatewayScopeDefaults(input: ConfigInput, config: ParsedConfig): ParsedConfig {
  if (!config.upstream || input.scopes !== undefined) return config;
  return {
    ...config,
    scopes: [{ name: GATEWAY_SCOPE, description: `Use the tools of ${config.serverName}` }],
    defaultScopes: input.defaultScopes ?? [GATEWAY_SCOPE],
  };
}

/**
 * What is wrong with the `upstream` settings, as `setting: message`, or null when they are usable.
 * Called by resolveConfig, after the scopes are known.
 */
export function upstreamProblem(config: ParsedConfig): string | null {
  const upstream = config.upstream;
  if (!upstream) return null;
  const { url, command } = upstream;
  if (!url && !command) return 'upstream: set upstream.url (an HTTP MCP server) or upstream.command (a stdio MCP server)';
  if (url && command) return 'upstream: set upstream.url or upstream.command, not both';

  if (url) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'upstream.url: it must be an http or https URL';
    if (parsed.username || parsed.password) return 'upstream.url: put credentials in upstream.bearerToken or upstream.secretHeaders, not in the URL';
    if (parsed.hash) return 'upstream.url: it must have no fragment';
    if (parsed.protocol === 'http:' && !LOOPBACK_HOSTS.has(parsed.hostname) && !upstream.dangerouslyAllowInsecureHttp) {
      return `upstream.url: ${parsed.origin} is plain http on a non-loopback host, so the gateway's credential and your users' identities would cross the network in clear text. Use https, or set PORTCULLIS_UPSTREAM_DANGEROUSLY_ALLOW_INSECURE_HTTP=true.`;
    }
  } else {
    if (upstream.bearerToken !== undefined || Object.keys(upstream.secretHeaders).length > 0) {
      return 'upstream.bearerToken: credentials are sent to an HTTP upstream only; a stdio server gets none';
    }
    try {
      parseCommandLine(command ?? '');
    } catch (error) {
      if (error instanceof CommandLineError) return `upstream.command: ${error.message}`;
      throw error;
    }
  }

  const secretNames = Object.keys(upstream.secretHeaders);
  const reserved = secretNames.find((name) => RESERVED_HEADERS.test(name));
  if (reserved) return `upstream.secretHeaders: ${reserved} is set by the gateway itself`;
  if (upstream.bearerToken !== undefined && secretNames.some((n) => n.toLowerCase() === 'authorization')) {
    return 'upstream.bearerToken: set it or an Authorization secret header (PORTCULLIS_UPSTREAM_AUTHORIZATION), not both';
  }
  if (upstream.identityHeaders) {
    const names = Object.values(upstream.identityHeaders).map((n) => n.toLowerCase());
    if (new Set(names).size !== names.length) return 'upstream.identityHeaders: the three header names must differ';
    const clash = names.find((n) => RESERVED_HEADERS.test(n) || n === 'authorization' || secretNames.some((s) => s.toLowerCase() === n));
    if (clash) return `upstream.identityHeaders: ${clash} cannot carry the caller's identity`;
  }

  const declared = new Set(config.scopes.map((s) => s.name));
  const undeclared = (scopes: readonly string[]) => scopes.find((s) => !declared.has(s));
  const missingRequired = undeclared(upstream.requiredScopes);
  if (missingRequired) return `upstream.requiredScopes: ${missingRequired} is not one of the declared scopes`;
  for (const [tool, scopes] of Object.entries(upstream.toolScopes)) {
    const missing = undeclared(scopes);
    if (missing) return `upstream.toolScopes: ${missing} (for ${tool}) is not one of the declared scopes`;
  }
  return null;
}

/** What the gateway fronts, for the operator (start-up banner); never sent to clients (seed 2 defect 15). */
export function describeUpstream(settings: UpstreamSettings): string {
  return settings.url !== undefined ? settings.url : `${settings.command ?? ''}  (stdio: one process per MCP session)`;
}

/** An HTTP upstream on another host that the gateway does not authenticate to can be called by anyone who reaches it, bypassing OAuth. */
export function isUnauthenticatedRemoteUpstream(settings: UpstreamSettings): boolean {
  if (settings.url === undefined || settings.bearerToken !== undefined || Object.keys(settings.secretHeaders).length > 0) return false;
  return !LOOPBACK_HOSTS.has(new URL(settings.url).hostname);
}
