import type { Context, Hono } from 'hono';
import { NO_STORE } from '../../errors/render.ts';
import type { AppContext } from '../../context.ts';
import { extractBearer } from '../../resource/bearer.ts';
import { quoteHeaderValue } from '../../resource/challenge.ts';
import { LocalTokenVerifier } from '../../resource/verify-local.ts';
import { OPENID_SCOPE } from '../id-token.ts';

/**
 * OIDC Core §5.3 UserInfo: `GET` or `POST` with one of our access tokens in the `Authorization`
 * header (never in the query or body, OAuth 2.1 §5.1) whose scope includes `openid`. Answers
 * `{sub, preferred_username}`. Failures are RFC 6750 §3 challenges, like any protected resource.
 */
export function mountUserinfo(app: Hono, ctx: AppContext): void {
  const verifier = new LocalTokenVerifier(ctx);

  const handler = async (c: Context): Promise<Response> => {
    const credential = extractBearer(c.req.raw);
    if (credential.kind === 'none') return challenge(ctx, 401, {});
    if (credential.kind === 'malformed') return challenge(ctx, 401, { error: 'invalid_token', error_description: 'The access token is malformed.' });

    const outcome = await verifier.verify(credential.token);
    if (!outcome.ok) {
      ctx.logger.debug('userinfo token refused', { reason: outcome.reason });
      return challenge(ctx, 401, { error: 'invalid_token', error_description: 'The access token is invalid or expired.' });
    }
    if (!outcome.token.scopes.includes(OPENID_SCOPE)) {
      return challenge(ctx, 403, { error: 'insufficient_scope', error_description: 'This endpoint needs the openid scope.', scope: OPENID_SCOPE });
    }
    const user = await ctx.storage.users.byId(outcome.token.subject);
    if (!user) return challenge(ctx, 401, { error: 'invalid_token', error_description: 'The access token is invalid or expired.' });
    return c.json({ sub: user.id, preferred_username: user.username }, 200, { ...NO_STORE });
  };

  app.get('/userinfo', handler);
  app.post('/userinfo', handler);
}

/** RFC 6750 §3: `WWW-Authenticate: Bearer realm=…[, error=…]`; no error code when no token was sent. */
function challenge(ctx: AppContext, status: 401 | 403, params: { error?: string; error_description?: string; scope?: string }): Response {
  const parts = [`realm=${quoteHeaderValue(ctx.config.issuer)}`];
  for (const [name, value] of Object.entries(params)) parts.push(`${name}=${quoteHeaderValue(value)}`);
  const body = params.error ? { error: params.error, error_description: params.error_description ?? '' } : { error_description: 'This endpoint requires an access token in the Authorization header.' };
  return Response.json(body, { status, headers: { ...NO_STORE, 'WWW-Authenticate': `Bearer ${parts.join(', ')}` } });
}
