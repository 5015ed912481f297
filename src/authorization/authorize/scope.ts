import type { ResolvedConfig } from '../../config/resolve.ts';
import { OAuthError } from '../../errors/oauth-error.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { BUILT_IN_SCOPES, type Capabilities } from '../capabilities.ts';
import { parseScope } from '../../resource/scopes.ts';
import { quoteForDescription, type RequestParams } from './params.ts';

const redirectable = true;

const isBuiltInScope = (scope: string): boolean => (BUILT_IN_SCOPES as readonly string[]).includes(scope);


/**
 * Phase 2: the scopes this request asks for. Absent (or empty) → the configured `defaultScopes` (RFC
 * 6749 §3.3 lets the server pick a documented default), narrowed to what the client may use.
 * Scopes we do not offer (`scopes_supported`) are left out of the grant rather than failing the
 * request (RFC 6749 §3.3 lets the server ignore part of it; the token response's `scope` then says
 * what was granted): clients ask for `openid profile email` whatever the server, and an error page
 * there strands them. A request left with no scope we offer gets the defaults, as if it named none;
 * one left with only `openid`/`offline_access` gets them together with the defaults.
 *
 * A `scope` limits a client only when an administrator set it (`portcullis clients add --scope`).
 * The `scope` of a dynamic registration is what the client asked for first, not a limit: anyone may
 * register anything, and MCP clients (the official SDK among them) register the scopes of their first
 * challenge, then must step up to more (RS-12, CL-05) without registering again.
 */
export function checkScope(params: RequestParams, client: ClientRecord, config: ResolvedConfig, capabilities: Capabilities): string[] {
  const registered = client.scope === null || client.source === 'dcr' ? null : new Set(parseScope(client.scope));
  const value = params.one('scope', { redirectable });

  const offered = value === undefined ? [] : parseScope(value).filter((s) => capabilities.scopesSupported.includes(s));
  if (offered.length === 0) {
    const scopes = config.defaultScopes.filter((s) => registered === null || registered.has(s));
    if (scopes.length === 0) {
      throw new OAuthError('invalid_scope', 'The request names no scope and none of the default scopes was registered by this application; name the scopes you need.', { redirectable });
    }
    return scopes;
  }
  if (!offered.some((s) => !isBuiltInScope(s))) {
    // Only `openid`/`offline_access`: an ID token and a refresh token, but no permission on the
    // resource the token is for (Codex CLI's automatic flow asks `openid profile email offline_access`
    // and never steps up). The defaults fill in the resource's part, as if it had named none.
    return [...offered, ...config.defaultScopes.filter((s) => !offered.includes(s) && (registered === null || registered.has(s)))];
  }

  const scopes = offered;
  const unregistered = registered === null ? [] : scopes.filter((s) => !registered.has(s));
  if (unregistered.length > 0) {
    throw new OAuthError('invalid_scope', `This application did not register the scope ${quoteForDescription(unregistered.join(' '))}.`, { redirectable });
  }
  return scopes;
}
