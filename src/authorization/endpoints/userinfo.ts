import type { Context, Hono } from 'hono';
import { NO_STORE } from '../../errors/render.ts';
import type { AppContext } from '../../context.ts';
import { extractAccessToken, type AccessTokenScheme } from '../../resource/bearer.ts';
import { checkPresentation } from '../../resource/dpop.ts';
import { quoteHeaderValue } from '../../resource/challenge.ts';
import { LocalTokenVerifier } from '../../resource/verify-local.ts';
import { OPENID_SCOPE } from '../id-token.ts';

/**
 * OIDC Core §5.3 UserInfo: `GET` or `POST` with one of our access tokens in the `Authorization`
 * header (never in the query or body, OAuth 2.1 §5.1) whose scope includes `openid`; a DPoP-bound
 * token under the `DPoP` scheme with a proof for this request (RFC 9449 §7), as at the MCP endpoint.
 * Answers `{sub, preferred_username}`. Failures are RFC 6750 §3 / RFC 9449 §7.1 challenges.
 */
export function mountUserinfo(app: Hono, ctx: AppContext): void {
  const verifier = new LocalTokenVerifier(ctx);

  const handler = async (c: Context): Promise<Response> => {
    const credential = extractAccessToken(c.req.raw);
    const required = ctx.dpop.required;
    if (credential.kind === 'none') return challenge(ctx, 401, required ? 'DPoP' : 'Bearer', {});
    if (credential.kind === 'malformed') return challenge(ctx, 401, credential.scheme, { error: 'invalid_token', error_description: 'The access token is malformed.' });
    const { scheme, token } = credential;
    const refused = (reason: string, challengeScheme: AccessTokenScheme = scheme === 'DPoP' || required ? 'DPoP' : 'Bearer'): Response => {
      ctx.logger.debug('userinfo token refused', { reason });
      return challenge(ctx, 401, challengeScheme, { error: 'invalid_token', error_description: 'The access token is invalid or expired.' });
    };
    if (scheme === 'Bearer' && required) return refused('DPoP is required');

    const outcome = await verifier.verify(token);
    if (!outcome.ok) return refused(outcome.reason);
    // RFC 9449 §7, as at the MCP endpoint.
    const presented = await checkPresentation(ctx.dpop, {
      scheme,
      token,
      claims: outcome.token.claims,
      proof: c.req.header('DPoP'),
      method: c.req.method,
      url: ctx.capabilities.endpoints.userinfo,
    });
    if (!presented.ok && presented.error === 'invalid_token') return refused(presented.detail, presented.scheme);
    if (!presented.ok) {
      ctx.logger.debug('userinfo DPoP proof refused', { reason: presented.detail });
      const nonce = presented.error === 'use_dpop_nonce' ? await ctx.dpop.currentNonce() : undefined;
      return challenge(ctx, 401, 'DPoP', { error: presented.error, error_description: 'The DPoP proof is missing, invalid or lacks the current nonce.' }, nonce);
    }
    if (!outcome.token.scopes.includes(OPENID_SCOPE)) {
      return challenge(ctx, 403, scheme, { error: 'insufficient_scope', error_description: 'This endpoint needs the openid scope.', scope: OPENID_SCOPE });
    }
    const user = await ctx.storage.users.byId(outcome.token.subject);
    if (!user) return refused('the user no longer exists');
    return c.json({ sub: user.id, preferred_username: user.username }, 200, { ...NO_STORE });
  };

  app.get('/userinfo', handler);
  app.post('/userinfo', handler);
}

/**
 * RFC 6750 §3 / RFC 9449 §7.1: `WWW-Authenticate: Bearer realm=…[, error=…]`, or the `DPoP` scheme with
 * the proof algorithms (and a nonce to use, in `DPoP-Nonce`); no error code when no token was sent.
 */
function challenge(ctx: AppContext, status: 401 | 403, scheme: AccessTokenScheme, params: { error?: string; error_description?: string; scope?: string }, dpopNonce?: string): Response {
  const parts = [`realm=${quoteHeaderValue(ctx.config.issuer)}`];
  for (const [name, value] of Object.entries(params)) parts.push(`${name}=${quoteHeaderValue(value)}`);
  if (scheme === 'DPoP') parts.push(`algs=${quoteHeaderValue(ctx.dpop.algorithms.join(' '))}`);
  const body = params.error ? { error: params.error, error_description: params.error_description ?? '' } : { error_description: 'This endpoint requires an access token in the Authorization header.' };
  const headers: Record<string, string> = { ...NO_STORE, 'WWW-Authenticate': `${scheme} ${parts.join(', ')}` };
  if (dpopNonce !== undefined) headers['DPoP-Nonce'] = dpopNonce;
  return Response.json(body, { status, headers });
}
