import type { ResolvedConfig } from '../../config/resolve.ts';
import { OAuthError } from '../../errors/oauth-error.ts';
import type { ClientRecord } from '../../storage/types.ts';
import type { Capabilities } from '../capabilities.ts';
import { parseScope } from '../../resource/scopes.ts';
import { quoteForDescription, type RequestParams } from './params.ts';

const redirectable = true;


/**
 * Phase 2: the scopes this request asks for. Absent (or empty) → the configured `defaultScopes` (RFC
 * 6749 §3.3 lets the server pick a documented default), narrowed to what the client may use.
 * Scopes we do not offer (`scopes_supported`) are left out of the grant rather than failing the
 * request (RFC 6749 §3.3 lets the server ignore part of it; the token response's `scope` then says
 * what was granted): clients ask for `openid profile email` whatever the server, and an error page
 * there strands them. A request left with no scope we offer gets the defaults, as if it named none;
 * one left with identity scopes only gets them and the defaults.
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
  const defaults = config.defaultScopes.filter((s) => registered === null || registered.has(s));
  if (offered.length === 0) {
    if (defaults.length === 0) {
      throw new OAuthError('invalid_scope', 'The request names no scope and none of the default scopes was registered by this application; name the scopes you need.', { redirectable });
    }
    return defaults;
  }
  // Only identity or built-in scopes (`openid profile email`, `offline_access`): a token for those alone
  // could call nothing (Codex CLI's automatic flow asks exactly that and never steps up), so the
  // default resource scopes come with them, narrowed to what an administrator registered.
  const declared = new Set(config.scopes.map((s) => s.name));
  if (!offered.some((s) => declared.has(s))) offered.push(...defaults.filter((s) => !offered.includes(s)));

  const scopes = offered;
  const unregistered = registered === null ? [] : scopes.filter((s) => !registered.has(s));
  if (unregistered.length > 0) {
    throw new OAuthError('invalid_scope', `This application did not register the scope ${quoteForDescription(unregistered.join(' '))}.`, { redirectable });
  }
  return scopes;
}
