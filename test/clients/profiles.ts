/**
 * How each MCP client really registers and authorizes, as recorded from its public issue tracker
 * (/work/shared/reference/field-2026-12.md §3, issue 14). One row per client drives the shared flow
 * in `client-flow.ts`; nothing here is a guess at behaviour the record does not state (where the record
 * is silent, the row says which ordinary choice it makes and docs/clients.md says so too).
 *
 * Host names of the clients' metadata documents (claude.ai, chatgpt.com, vscode.dev) are stood in for
 * by the test's https document server on 127.0.0.1: tests reach only loopback. The path is the
 * client's own.
 */

/** `{port}`: an ephemeral loopback port the client picks for this one authorization. */
export type RedirectTemplate = string;

export type Registration =
  /** RFC 7591 dynamic registration with this `token_endpoint_auth_method`. */
  | { kind: 'dcr'; authMethod: 'none' | 'client_secret_post' }
  /** A client ID metadata document at `path` (the client_id is its https URL). */
  | { kind: 'cimd'; path: string; authMethod: 'none' | 'private_key_jwt'; keys?: 'jwks' | 'jwks_uri' };

/** Where the client takes the scopes it asks for. */
export type ScopeSource =
  /** The `scope` of the 401 challenge, else the PRM's `scopes_supported` (MCP spec order). */
  | 'challenge'
  /** The authorization server metadata's `scopes_supported`, never the PRM (Codex). */
  | 'as-metadata'
  /** Only its own fixed list (`extraScopes`), whatever the server says. */
  | 'fixed';

export interface ClientProfile {
  name: string;
  registration: Registration;
  /** Redirect URIs registered or published in the document (`{port}` filled once, at registration). */
  redirectUris: RedirectTemplate[];
  /** The one the authorization request uses (`{port}` filled per authorization). */
  requestRedirectUri: RedirectTemplate;
  scopeSource: ScopeSource;
  /** Asked for on top of the source's scopes, advertised or not (the client hard-codes them). */
  extraScopes: string[];
  /** Sends `resource` (RFC 8707) at /authorize and /token. */
  sendsResource: boolean;
  /** Checks `iss` in the authorization response (RFC 9207); false: drops it. */
  checksIss: boolean;
  /** Refuses a PRM whose `resource` is not byte for byte the URL it connected to. */
  requiresExactPrmResource: boolean;
  prompt?: 'consent';
}

export const CLAUDE: ClientProfile = {
  name: 'Claude (web and desktop connectors)',
  registration: { kind: 'dcr', authMethod: 'client_secret_post' },
  redirectUris: ['https://claude.ai/api/mcp/auth_callback'],
  requestRedirectUri: 'https://claude.ai/api/mcp/auth_callback',
  scopeSource: 'challenge',
  extraScopes: ['offline_access', 'openid', 'profile'],
  sendsResource: true,
  checksIss: true,
  requiresExactPrmResource: false,
  prompt: 'consent',
};

export const CLAUDE_CODE: ClientProfile = {
  name: 'Claude Code',
  registration: { kind: 'cimd', path: '/oauth/claude-code-client-metadata', authMethod: 'none' },
  // The document publishes a loopback URI without a port; each run listens on an ephemeral one.
  redirectUris: ['http://localhost/callback'],
  requestRedirectUri: 'http://localhost:{port}/callback',
  scopeSource: 'challenge',
  extraScopes: [],
  sendsResource: true,
  checksIss: true,
  requiresExactPrmResource: false,
};

export const CHATGPT: ClientProfile = {
  name: 'ChatGPT',
  registration: { kind: 'cimd', path: '/oauth/chatgpt-client-metadata.json', authMethod: 'private_key_jwt', keys: 'jwks' },
  redirectUris: ['https://chatgpt.com/connector_platform_oauth_redirect', 'https://chatgpt.com/connector/oauth/c-6f1d2a9e'],
  requestRedirectUri: 'https://chatgpt.com/connector/oauth/c-6f1d2a9e',
  scopeSource: 'challenge',
  extraScopes: ['offline_access'],
  sendsResource: true,
  checksIss: true,
  requiresExactPrmResource: false,
};

export const CURSOR: ClientProfile = {
  name: 'Cursor',
  registration: { kind: 'dcr', authMethod: 'none' },
  redirectUris: ['cursor://anysphere.cursor-mcp/oauth/callback', 'https://www.cursor.com/agents/mcp/oauth/callback', 'http://localhost:8787/callback'],
  requestRedirectUri: 'cursor://anysphere.cursor-mcp/oauth/callback',
  scopeSource: 'challenge',
  extraScopes: [],
  sendsResource: true,
  checksIss: true,
  requiresExactPrmResource: false,
};

export const VS_CODE: ClientProfile = {
  name: 'VS Code',
  registration: { kind: 'cimd', path: '/oauth/client-metadata.json', authMethod: 'none' },
  redirectUris: ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect', 'https://insiders.vscode.dev/redirect'],
  requestRedirectUri: 'http://127.0.0.1:33418/',
  scopeSource: 'challenge',
  extraScopes: [],
  sendsResource: true,
  checksIss: true,
  requiresExactPrmResource: false,
};

export const CODEX_CLI: ClientProfile = {
  name: 'Codex CLI',
  registration: { kind: 'dcr', authMethod: 'none' },
  redirectUris: ['http://127.0.0.1:{port}/callback'],
  requestRedirectUri: 'http://127.0.0.1:{port}/callback',
  scopeSource: 'as-metadata',
  extraScopes: ['openid', 'profile', 'email'],
  sendsResource: true,
  checksIss: true,
  requiresExactPrmResource: false,
};

/** Codex's automatic flow: a fixed OIDC list without the server's scope (codex#17265). */
export const CODEX_CLI_AUTO: ClientProfile = {
  ...CODEX_CLI,
  name: 'Codex CLI (automatic flow)',
  scopeSource: 'fixed',
  extraScopes: ['openid', 'profile', 'email', 'offline_access'],
};

export const GEMINI_CLI: ClientProfile = {
  name: 'Gemini CLI',
  registration: { kind: 'dcr', authMethod: 'none' },
  redirectUris: ['http://localhost:7777/oauth/callback'],
  requestRedirectUri: 'http://localhost:7777/oauth/callback',
  scopeSource: 'challenge',
  extraScopes: [],
  sendsResource: true,
  checksIss: true,
  requiresExactPrmResource: true,
};

export const WARP: ClientProfile = {
  name: 'Warp',
  registration: { kind: 'dcr', authMethod: 'none' },
  redirectUris: ['http://127.0.0.1:{port}/callback'],
  requestRedirectUri: 'http://127.0.0.1:{port}/callback',
  scopeSource: 'challenge',
  extraScopes: [],
  sendsResource: false,
  checksIss: true,
  requiresExactPrmResource: false,
};

export const GOOSE: ClientProfile = {
  name: 'Goose',
  registration: { kind: 'dcr', authMethod: 'none' },
  redirectUris: ['http://127.0.0.1:{port}/callback'],
  requestRedirectUri: 'http://127.0.0.1:{port}/callback',
  scopeSource: 'challenge',
  extraScopes: [],
  sendsResource: true,
  checksIss: false,
  requiresExactPrmResource: false,
};
