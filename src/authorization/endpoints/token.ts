import type { Hono } from 'hono';
import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import { createRateLimiter } from '../../http/rate-limit.ts';
import { mountBackChannel } from '../back-channel.ts';
import { GRANT_TYPES } from '../grants/index.ts';
import { nonceHeader, tokenRequestKey } from '../grants/token-dpop.ts';

/**
 * The token endpoint (OAuth 2.1 §3.2): after the back-channel pipeline (per-address rate limit, POST
 * form, client authentication, `no-store`), the request's DPoP proof if any (RFC 9449 §5), then the
 * grant named by `grant_type`.
 */
export function mountToken(app: Hono, ctx: AppContext): void {
  mountBackChannel(app, ctx, {
    path: '/token',
    authMethods: ctx.capabilities.tokenEndpointAuthMethods,
    rateLimit: createRateLimiter({ name: 'token', perMinute: ctx.config.tokenPerMinute, storage: ctx.storage, clock: ctx.clock, metrics: ctx.metrics }),
    async answer({ client, form, headers, responseHeaders }) {
      const name = form.require('grant_type');
      const grantType = ctx.capabilities.grantTypes.includes(name) ? GRANT_TYPES.get(name) : undefined;
      if (!grantType) throw new OAuthError('unsupported_grant_type', 'This server does not support that grant_type.');
      if (!grantType.permits(client)) throw new OAuthError('unauthorized_client', `This client is not registered for the ${name} grant.`);
      const key = await tokenRequestKey(ctx, client, headers.get('DPoP'));
      const body = await grantType.handle(ctx, client, form, key);
      for (const [name, value] of Object.entries(await nonceHeader(ctx))) responseHeaders.set(name, value);
      return body;
    },
  });
}
