import type { Context, Hono } from 'hono';
import { isOAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import { clientAddress, createRateLimiter } from '../../http/rate-limit.ts';
import { requestNotes } from '../../http/request-log.ts';
import { currentLoginSession } from '../../identity/login-sessions.ts';
import { continueAuthorization } from '../authorize/continue.ts';
import { invalidAuthorizationRequestPage, pageHandler, tooManyRequestsPage } from '../authorize/pages.ts';
import { readParams, type RequestParams } from '../authorize/params.ts';
import { pendingRequestRecord } from '../authorize/pending-requests.ts';
import { phaseTwoErrorResponse } from '../authorize/error-redirect.ts';
import { resolveRedirectTarget, validateRequestParameters, type RedirectTarget } from '../authorize/validate.ts';
import { mountUpstreamCallback } from './callback.ts';
import { mountConsent } from './consent.ts';
import { mountLogin } from './login.ts';

/**
 * The authorization endpoint (OAuth 2.1 §4.1.1, GET or form POST) and the pages it leads to: login,
 * consent, logout, and the callback from an upstream identity provider when one is configured.
 * None of these routes has CORS (SEC-24): they are navigations, not API calls.
 */
export function mountAuthorization(app: Hono, ctx: AppContext): void {
  // Per address (SEC-48, HARD-2): each request costs a client lookup (maybe a metadata document fetch).
  const limiter = createRateLimiter({ name: 'authorize', perMinute: ctx.config.authorizePerMinute, storage: ctx.storage, clock: ctx.clock, metrics: ctx.metrics });
  app.on(
    ['GET', 'POST'],
    '/authorize',
    pageHandler(ctx, async (c: Context) => {
      const clientId = c.req.query('client_id');
      if (clientId !== undefined) requestNotes(c).clientId = clientId;
      const limited = await limiter.take(clientAddress(c));
      if (!limited.ok) return tooManyRequestsPage(ctx, limited.retryAfterSeconds);
      // Lines logged while the request is checked name the client it says it is.
      return authorize(clientId === undefined ? ctx : { ...ctx, logger: ctx.logger.child({ client_id: clientId.slice(0, 200) }) }, c.req.raw);
    }),
  );
  mountLogin(app, ctx, limiter);
  mountConsent(app, ctx, limiter);
  mountUpstreamCallback(app, ctx);
}

async function authorize(ctx: AppContext, request: Request): Promise<Response> {
  // Phase 1: until the client and its redirect URI are known good, errors stay on our page (SEC-06).
  let params: RequestParams;
  let target: RedirectTarget;
  try {
    params = await readParams(request);
    target = await resolveRedirectTarget(ctx, params);
  } catch (error) {
    if (isOAuthError(error)) return invalidAuthorizationRequestPage(ctx, error);
    throw error;
  }

  // Phase 2: everything else is answered at the client's redirect URI, with state and iss (AS-26).
  let valid;
  try {
    valid = validateRequestParameters(ctx, params, target);
  } catch (error) {
    // Redirected only to a trusted redirect URI or a signed-in user (SEC-08); otherwise our page.
    if (isOAuthError(error) && error.redirectable) return phaseTwoErrorResponse(ctx, request, target, error);
    throw error;
  }

  // Stored only if a signed-in user's consent page comes next; before sign-in the login link carries it sealed.
  const pending = pendingRequestRecord(ctx, valid);
  const signedIn = await currentLoginSession(ctx, request);
  return continueAuthorization(ctx, { request: pending, stored: false, client: valid.client, signedIn, justSignedIn: false });
}
