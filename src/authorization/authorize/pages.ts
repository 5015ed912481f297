import type { ResolvedConfig } from '../../config/resolve.ts';
import { isOAuthError, type OAuthError } from '../../errors/oauth-error.ts';
import { logUnexpectedError } from '../../errors/render.ts';
import type { AppContext } from '../../context.ts';
import { pageSecurityHeaders, renderErrorPage, renderReconnectPage, type Branding } from '../../ui/index.ts';
import { StaleRegistrationError } from './stale-registration.ts';

export function branding(config: ResolvedConfig): Branding {
  return { serverName: config.serverName, logoUrl: config.logoUrl, accentColor: config.accentColor };
}

/**
 * Every page of the flow goes out with the strict page headers (CSP with frame-ancestors 'none',
 * X-Frame-Options, no-referrer, no-store: SEC-22, SEC-23) and never with CORS headers (SEC-24).
 */
export function htmlResponse(ctx: Pick<AppContext, 'config'>, page: string, status = 200, headers?: Headers): Response {
  const h = new Headers(headers);
  for (const [name, value] of Object.entries(pageSecurityHeaders(branding(ctx.config)))) h.set(name, value);
  h.set('Content-Type', 'text/html; charset=utf-8');
  return new Response(page, { status, headers: h });
}

export function errorPage(
  ctx: Pick<AppContext, 'config'>,
  view: { title: string; message: string; detail?: string },
  status: number,
  headers?: Headers,
): Response {
  return htmlResponse(ctx, renderErrorPage({ branding: branding(ctx.config), ...view }), status, headers);
}

/**
 * Phase-1 failures of /authorize (unknown client, bad redirect URI): shown here, never redirected
 * (SEC-06, AS-24). The public description goes on the page; the private detail only to the logs.
 */
export function invalidAuthorizationRequestPage(ctx: Pick<AppContext, 'config' | 'logger'>, error: OAuthError): Response {
  ctx.logger.info('authorization request refused', { error_code: error.code, detail: error.detail ?? error.description });
  if (error instanceof StaleRegistrationError) return reconnectPage(ctx, error);
  if (error.code === 'temporarily_unavailable') {
    // Nothing is wrong with the link: the server is busy (e.g. too many client documents being fetched).
    return errorPage(ctx, { title: 'Please try again in a moment', message: error.description, detail: `error: ${error.code}` }, 503, new Headers(error.headers));
  }
  return errorPage(
    ctx,
    {
      title: 'This sign-in link is not valid',
      message: `${error.description} To protect your account, you were not sent back to the application.`,
      detail: `error: ${error.code}`,
    },
    error.status >= 400 && error.status < 500 ? error.status : 400,
  );
}

/** A client's saved registration is out of date: say so, and how to reset the common clients (issue 12). */
function reconnectPage(ctx: Pick<AppContext, 'config'>, error: StaleRegistrationError): Response {
  const registration = ctx.config.registration.enabled ? { registrationEndpoint: `${ctx.config.issuer}/register` } : {};
  const page = renderReconnectPage({
    branding: branding(ctx.config),
    reason: error.reason,
    message: error.description,
    mcpUrl: ctx.config.resource,
    technical: { error: error.code, clientId: error.clientId, ...(error.redirectUri !== undefined ? { redirectUri: error.redirectUri } : {}), ...registration },
  });
  return htmlResponse(ctx, page, error.status);
}

/** The pending request is gone: it expired (10 minutes), or this form was already answered. */
export function requestExpiredPage(ctx: Pick<AppContext, 'config'>, headers?: Headers): Response {
  return errorPage(
    ctx,
    {
      title: 'This sign-in has expired',
      message: 'This sign-in request has expired or was already answered. Go back to the application and connect again.',
    },
    400,
    headers,
  );
}

/** Past a per-address rate limit on a page route: 429 with Retry-After (RFC 9110 §10.2.3, RFC 6585 §4). */
export function tooManyRequestsPage(ctx: Pick<AppContext, 'config'>, retryAfterSeconds: number): Response {
  const message = 'Too many sign-in attempts from your network. Wait a minute and try again.';
  return errorPage(ctx, { title: 'Too many attempts', message }, 429, new Headers({ 'Retry-After': String(retryAfterSeconds) }));
}

/** A form arrived without the token of the page it came from (CSRF, or a page left open too long). */
export function formExpiredPage(ctx: Pick<AppContext, 'config'>): Response {
  return errorPage(
    ctx,
    {
      title: 'This form has expired',
      message: 'The page you submitted is out of date, so nothing was changed. Go back to the application and connect again.',
    },
    403,
  );
}

/**
 * Wraps a page handler: a client's mistake (an OAuthError) becomes an error page with its status, and
 * anything unexpected a logged 500 page. A page route never answers with JSON or a stack trace.
 */
export function pageHandler<C extends { req: { raw: Request; method: string; path: string } }>(
  ctx: Pick<AppContext, 'config' | 'logger'>,
  handle: (c: C) => Promise<Response>,
): (c: C) => Promise<Response> {
  return async (c) => {
    try {
      return await handle(c);
    } catch (error) {
      // A busy server (503 temporarily_unavailable) is no bug either: the page asks to try again.
      if (isOAuthError(error) && (error.status < 500 || error.code === 'temporarily_unavailable')) {
        return errorPage(ctx, { title: 'This request cannot be completed', message: error.description, detail: `error: ${error.code}` }, error.status, new Headers(error.headers));
      }
      logUnexpectedError(error, ctx.logger, { method: c.req.method, path: c.req.path }, c.req.raw);
      return errorPage(ctx, { title: 'Something went wrong', message: 'The server could not complete this request. Please try again in a moment.' }, 500);
    }
  };
}
