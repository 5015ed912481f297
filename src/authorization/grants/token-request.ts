import type { AppContext } from '../../context.ts';
import { OAuthError } from '../../errors/oauth-error.ts';
import { parseScope } from '../../resource/scopes.ts';
import { sameResource } from '../authorize/resource.ts';
import { BUILT_IN_SCOPES, IDENTITY_SCOPES } from '../capabilities.ts';
import type { FormParams } from '../form.ts';

/**
 * Parameter checks shared by the grants that issue a token straight from the token endpoint, with
 * no authorization request before it (client_credentials, the ID-JAG jwt-bearer grant).
 */

/**
 * RFC 8707 §2.2: the `resource` of the request, as configured (our MCP endpoint or one of the
 * `resources` setting), or null when the request names none. Anything else is `invalid_target`.
 */
export function requestedResource(ctx: AppContext, form: FormParams): string | null {
  const value = form.get('resource');
  if (value === undefined) return null;
  const match = [ctx.config.resource, ...ctx.config.resources].find((r) => sameResource(r, value));
  if (match === undefined) throw new OAuthError('invalid_target', `That resource is not served by this authorization server; use ${ctx.config.resource}.`);
  return match;
}

/** The `scope` parameter as a list, or null when absent. Scopes we do not offer are `invalid_scope`. */
export function requestedScopes(ctx: AppContext, form: FormParams): string[] | null {
  const value = form.get('scope');
  if (value === undefined) return null;
  const scopes = parseScope(value);
  const unknown = scopes.filter((s) => !ctx.capabilities.scopesSupported.includes(s));
  if (unknown.length > 0) throw new OAuthError('invalid_scope', 'The request names a scope this server does not offer.', { detail: `unknown scopes: ${unknown.join(' ')}` });
  return scopes;
}

/**
 * `openid` and `offline_access` mean an ID token and a refresh token, `profile` and `email` claims about
 * a person: none is issued by these grants, so asking for them is an error rather than a silent drop.
 * (A server that declares its own `profile` or `email` scope gets those as resource scopes.)
 */
export function refuseBuiltInScopes(scopes: readonly string[], grant: string, declared: readonly string[] = []): void {
  const reserved: readonly string[] = [...BUILT_IN_SCOPES, ...IDENTITY_SCOPES.filter((s) => !declared.includes(s))];
  const builtIn = scopes.filter((s) => reserved.includes(s));
  if (builtIn.length > 0) throw new OAuthError('invalid_scope', `The ${grant} grant issues neither ID tokens nor refresh tokens; do not ask for ${builtIn.join(' ')}.`);
}
