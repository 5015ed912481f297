import type { Hono } from 'hono';
import { OAuthError } from '../../errors/oauth-error.ts';
import { NO_STORE } from '../../errors/render.ts';
import type { AppContext } from '../../http/context.ts';
import { clientAddress } from '../../http/rate-limit.ts';
import { authenticateClient } from '../clients/authenticate.ts';
import { readForm } from '../form.ts';
import { GRANT_TYPES } from '../grants/index.ts';

/**
 * The token endpoint (OAuth 2.1 §3.2): a form POST, client authentication, then the grant named by
 * `grant_type`. Every response, success or error, carries `Cache-Control: no-store` (SEC-31); errors
 * are thrown as `OAuthError` and rendered by the app's one error renderer.
 */
export function mountToken(app: Hono, ctx: AppContext): void {
  app.all('/token', async (c) => {
    const form = await readForm(c.req.raw);
    const { client } = await authenticateClient(ctx, c.req.raw, form, {
      methods: ctx.capabilities.tokenEndpointAuthMethods,
      address: clientAddress(c),
    });

    const name = form.require('grant_type');
    const grantType = ctx.capabilities.grantTypes.includes(name) ? GRANT_TYPES.get(name) : undefined;
    if (!grantType) throw new OAuthError('unsupported_grant_type', 'This server does not support that grant_type.');
    if (!grantType.permits(client)) throw new OAuthError('unauthorized_client', `This client is not registered for the ${name} grant.`);

    const body = await grantType.handle(ctx, client, form);
    return c.json(body, 200, { ...NO_STORE });
  });
}
