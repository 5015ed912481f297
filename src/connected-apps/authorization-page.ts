import type { Context, Hono } from 'hono';
import { stytchApiUrl } from '../config/identity-provider.ts';
import type { StytchAuthorizationPage } from '../config/stytch-authorization-page.ts';
import type { AppContext } from '../context.ts';
import { branding, errorPage, formExpiredPage, htmlResponse, pageHandler, tooManyRequestsPage } from '../authorization/authorize/pages.ts';
import { seeOther } from '../authorization/authorize/redirect.ts';
import { redirectHost } from '../authorization/endpoints/consent.ts';
import { readForm } from '../authorization/form-body.ts';
import { clientAddress, createRateLimiter } from '../http/rate-limit.ts';
import { sessionCsrfToken, verifySessionCsrf } from '../identity/csrf.ts';
import { userForUpstreamIdentity } from '../identity/external-users.ts';
import { currentLoginSession, endLoginSession, startLoginSession, type SignedIn } from '../identity/login-sessions.ts';
import { upstreamEnv, UpstreamLoginError } from '../identity/providers/index.ts';
import { StytchIdentityProvider } from '../identity/providers/stytch.ts';
import { createUpstreamTransaction, isTransactionHandle, takeUpstreamTransaction, UPSTREAM_TRANSACTION_TTL_MS } from '../identity/upstream-transactions.ts';
import { VerifierUnavailableError } from '../resource/types.ts';
import { renderConsentPage } from '../ui/index.ts';
import { allLoopback } from '../authorization/clients/redirect-uris.ts';
import { canonicalQuery, parseAuthorizationRequest } from './authorization-request.ts';
import { createStytchIdp, StytchApiError, type StytchAuthorizationParams, type StytchIdp } from './stytch-idp.ts';
import { hashSecret } from '../util/crypto.ts';

/** What the login transaction carries instead of a pending request: the page's own query, to come back to. */
const RETURN_PREFIX = 'stytch-authorization-page?';
/** The session form purpose of the consent form; its subject is a digest of the request it decides. */
const CONSENT = 'consent';

/**
 * The page Stytch Connected Apps sends MCP clients to (the dashboard's "Authorization URL"), which
 * seed 1 leaves to the application: the person signs in, then consents, and Stytch issues the code.
 *
 * - `GET <path>?client_id=…`: without a signed-in browser, a login at Stytch's OAuth (the same
 *   provider and transaction machinery as the gateway's Stytch login: single-use, bound to this
 *   browser, PKCE-tied) comes first, and its callback (`<path>/callback`) returns here. Then Stytch's
 *   Start OAuth Authorization for the person's Stytch user: its client, scope results and whether
 *   consent is needed. Without consent needed, OAuth Authorize at once; else our consent page.
 * - `POST <path>`: Allow or Deny (CSRF token bound to the session and to the request's parameters)
 *   goes to OAuth Authorize with `consent_granted`, and the browser to the URL Stytch answers.
 *
 * Stytch's refusals are error pages with its message; an unreachable Stytch is a 503 page. The
 * page never redirects to a redirect URI before Stytch has validated it, and only to the one asked for.
 */
export function mountStytchAuthorizationPage(app: Hono, ctx: AppContext, settings: StytchAuthorizationPage): void {
  const stytch = ctx.config.identityProvider.stytch ?? {};
  const login = new StytchIdentityProvider(stytch);
  const idp = createStytchIdp({ apiUrl: stytchApiUrl(stytch), projectId: settings.projectId, secret: settings.secret, fetch: ctx.fetch });
  // Each login start stores a transaction, and each page view calls Stytch: both are per-address limited.
  const limiter = createRateLimiter({ perMinute: ctx.config.authorizePerMinute, clock: ctx.clock });
  const page: PageContext = { ctx, settings, login, idp, callbackUrl: `${ctx.config.issuer}${settings.path}/callback`, issuer: `stytch.com/${settings.projectId}` };

  app.get(settings.path, pageHandler(ctx, (c: Context) => limited(c) ?? showAuthorization(page, c.req.raw)));
  app.post(settings.path, pageHandler(ctx, (c: Context) => limited(c) ?? decide(page, c.req.raw)));
  app.get(`${settings.path}/callback`, pageHandler(ctx, (c: Context) => limited(c) ?? completeLogin(page, c.req.raw)));

  function limited(c: Context): Promise<Response> | null {
    const taken = limiter.take(clientAddress(c));
    return taken.ok ? null : Promise.resolve(tooManyRequestsPage(ctx, taken.retryAfterSeconds));
  }
}

interface PageContext {
  ctx: AppContext;
  settings: StytchAuthorizationPage;
  login: StytchIdentityProvider;
  idp: StytchIdp;
  callbackUrl: string;
  /** Stytch's name for the project in linked identities (`stytch.com/<project id>`). */
  issuer: string;
}

/** The signed-in browser's Stytch user, or null when it must sign in (again). */
async function stytchUser(page: PageContext, request: Request): Promise<{ signedIn: SignedIn; userId: string } | null> {
  const signedIn = await currentLoginSession(page.ctx, request);
  if (!signedIn) return null;
  const links = await page.ctx.storage.externalIdentities.listForUser(signedIn.user.id);
  const link = links.find((l) => l.provider === 'stytch' && l.issuer === page.issuer);
  return link ? { signedIn, userId: link.subject } : null;
}

async function showAuthorization(page: PageContext, request: Request): Promise<Response> {
  const { ctx } = page;
  const query = new URL(request.url).searchParams;
  const parsed = parseAuthorizationRequest(query);
  if (!parsed.ok) return errorPage(ctx, { title: 'This sign-in link is not valid', message: parsed.message }, 400);
  const user = await stytchUser(page, request);
  if (!user) return startLogin(page, request, canonicalQuery(query));

  const start = await askStytch(page, () => page.idp.authorizeStart(parsed.params, user.userId));
  if (start instanceof Response) return start;
  if (!start.consentRequired) return authorize(page, parsed.params, user.userId, false, start.client.client_id);

  const hidden = canonicalQuery(query);
  const grantable = start.scopeResults.filter((r) => r.is_grantable);
  const ungrantable = start.scopeResults.filter((r) => !r.is_grantable);
  const describe = (r: { scope: string; description: string }) => ({ name: r.scope, description: r.description || r.scope });
  const html = renderConsentPage({
    branding: branding(ctx.config),
    action: page.settings.path,
    csrfToken: sessionCsrfToken(user.signedIn.session, CONSENT, requestDigest(hidden)),
    hidden: { request: hidden },
    user: { username: user.signedIn.user.username },
    client: {
      name: start.client.client_name || new URL(parsed.params.redirect_uri).hostname,
      clientId: start.client.client_id,
      redirectHost: redirectHost(parsed.params.redirect_uri),
      allRedirectsLoopback: allLoopback([parsed.params.redirect_uri]),
      ...(start.client.logo_url ? { logoUri: start.client.logo_url } : {}),
    },
    scopes: grantable.map(describe),
    ...(ungrantable.length > 0 ? { ungrantable: ungrantable.map(describe) } : {}),
    resource: parsed.params.resources?.[0] ?? ctx.config.resource,
  });
  return htmlResponse(ctx, html);
}

async function decide(page: PageContext, request: Request): Promise<Response> {
  const { ctx } = page;
  const form = await readForm(request);
  const hidden = form.get('request') ?? '';
  const parsed = parseAuthorizationRequest(new URLSearchParams(hidden));
  if (!parsed.ok) return errorPage(ctx, { title: 'This sign-in link is not valid', message: parsed.message }, 400);
  const user = await stytchUser(page, request);
  // The session ended while the page was open: back to the page, which signs in first.
  if (!user) return seeOther(`${page.settings.path}?${hidden}`);
  if (!verifySessionCsrf(user.signedIn.session, CONSENT, requestDigest(hidden), form.get('csrf_token') ?? undefined)) return formExpiredPage(ctx);
  const decision = form.get('decision');
  if (decision !== 'allow' && decision !== 'deny') return errorPage(ctx, { title: 'No decision was made', message: 'Choose Allow or Deny. Nothing was changed.' }, 400);
  const audit = { user_id: user.signedIn.user.id, client_id: parsed.params.client_id, scope: parsed.params.scopes.join(' '), via: 'stytch' };
  ctx.logger.audit(decision === 'allow' ? 'consent.granted' : 'consent.denied', audit);
  return authorize(page, parsed.params, user.userId, decision === 'allow', parsed.params.client_id);
}

/** OAuth Authorize, then the browser goes where Stytch says: the client's redirect URI, with a code or an error. */
async function authorize(page: PageContext, params: StytchAuthorizationParams, userId: string, consentGranted: boolean, clientId: string): Promise<Response> {
  const target = await askStytch(page, () => page.idp.authorize(params, userId, consentGranted));
  if (target instanceof Response) return target;
  // Only ever the redirect URI this request named (and Stytch validated): never a URL from elsewhere.
  const asked = new URL(params.redirect_uri);
  const given = new URL(target);
  if (given.origin !== asked.origin || given.pathname !== asked.pathname) {
    page.ctx.logger.warn('stytch authorize answered another redirect uri', { client_id: clientId });
    return errorPage(page.ctx, { title: 'This sign-in cannot be completed', message: 'The authorization server answered with an unexpected address, so you were not sent anywhere.' }, 502);
  }
  return seeOther(given.href);
}

/** Calls Stytch; its refusal becomes an error page with its message, its absence a 503 page. */
async function askStytch<T>(page: PageContext, call: () => Promise<T>): Promise<T | Response> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof StytchApiError) {
      page.ctx.logger.info('stytch refused an authorization request', { error_type: error.errorType, status_code: error.status });
      return errorPage(
        page.ctx,
        { title: 'This sign-in link is not valid', message: error.errorMessage || 'The authorization server refused this request.', detail: `error_type: ${error.errorType}` },
        error.status === 404 || error.status === 400 || error.status === 403 ? error.status : 400,
      );
    }
    if (error instanceof VerifierUnavailableError) {
      page.ctx.logger.warn('stytch unavailable', { detail: error.message });
      return errorPage(page.ctx, { title: 'Please try again in a moment', message: 'The sign-in service is not reachable right now.' }, 503);
    }
    throw error;
  }
}

/** Off to Stytch's OAuth login; the transaction remembers this page's query to come back to. */
async function startLogin(page: PageContext, request: Request, query: string): Promise<Response> {
  const { ctx } = page;
  const tx = await createUpstreamTransaction(ctx, request, { handle: RETURN_PREFIX + query, expiresAt: ctx.clock.now() + UPSTREAM_TRANSACTION_TTL_MS }, page.login, (state) =>
    page.login.start(state, page.callbackUrl, upstreamEnv(ctx)),
  );
  ctx.logger.audit('upstream_login.started', { identity_provider: 'stytch', via: 'stytch' });
  return seeOther(tx.url, new Headers({ 'Set-Cookie': tx.setCookie }));
}

async function completeLogin(page: PageContext, request: Request): Promise<Response> {
  const { ctx } = page;
  const callback = new URL(request.url);
  const audit = { identity_provider: 'stytch', via: 'stytch' };
  const state = page.login.stateOf(callback);
  const taken = isTransactionHandle(state) ? await takeUpstreamTransaction(ctx, request, state, page.login) : null;
  if (taken?.status !== 'ok' || !taken.transaction.requestId.startsWith(RETURN_PREFIX)) {
    ctx.logger.audit('login.failed', { ...audit, reason: taken?.status === 'other_browser' ? 'other_browser' : 'unknown_transaction' });
    return errorPage(ctx, { title: 'This sign-in cannot be completed', message: 'This sign-in link has expired, was already used, or was started in another browser. Go back to the application and connect again.' }, 400);
  }
  let identity;
  try {
    identity = await page.login.finish(callback, page.callbackUrl, taken.transaction, upstreamEnv(ctx));
  } catch (error) {
    if (!(error instanceof UpstreamLoginError)) throw error;
    ctx.logger.audit('login.failed', { ...audit, reason: error.reason, detail: error.detail });
    const status = error.reason === 'unavailable' ? 503 : 400;
    return errorPage(ctx, { title: 'Signing in did not complete', message: `Signing in with ${page.login.displayName} did not complete. Go back to the application and connect again.` }, status);
  }
  const { user, created } = await userForUpstreamIdentity(ctx, identity);
  if (created) ctx.logger.audit('user.created', { ...audit, user_id: user.id, username: user.username, issuer: identity.issuer });
  // A fresh session id, never one the browser brought along (session fixation).
  await endLoginSession(ctx, request);
  const { setCookie } = await startLoginSession(ctx, user);
  ctx.logger.audit('login.succeeded', { ...audit, user_id: user.id, username: user.username });
  return seeOther(`${page.settings.path}?${taken.transaction.requestId.slice(RETURN_PREFIX.length)}`, new Headers({ 'Set-Cookie': setCookie }));
}

/** The consent form's CSRF token names the exact request it decides. */
const requestDigest = (query: string): string => hashSecret(query);
