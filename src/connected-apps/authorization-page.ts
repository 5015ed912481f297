import type { Context, Hono } from 'hono';
import { stytchApiUrl } from '../config/identity-provider.ts';
import type { StytchAuthorizationPage } from '../config/stytch-authorization-page.ts';
import type { AppContext } from '../context.ts';
import { allLoopback } from '../authorization/clients/redirect-uris.ts';
import { branding, errorPage, formExpiredPage, htmlResponse, pageHandler, tooManyRequestsPage } from '../authorization/authorize/pages.ts';
import { seeOther } from '../authorization/authorize/redirect.ts';
import { redirectHost } from '../authorization/endpoints/consent.ts';
import { readForm } from '../authorization/form-body.ts';
import { clientAddress, createRateLimiter } from '../http/rate-limit.ts';
import { sessionCsrfToken, verifySessionCsrf } from '../identity/csrf.ts';
import { renderConsentPage } from '../ui/index.ts';
import { canonicalQuery, parseAuthorizationRequest, requestDigest } from './authorization-request.ts';
import { OidcIdentityProvider } from '../identity/providers/oidc.ts';
import { StytchIdentityProvider } from '../identity/providers/stytch.ts';
import { emailSignIn } from './email-sign-in.ts';
import { localSignIn } from './local-sign-in.ts';
import type { PageContext, SignIn } from './sign-in.ts';
import { attestedStytchUser } from './trusted-auth-token.ts';
import { linkedStytchUser, upstreamSignIn } from './upstream-sign-in.ts';
import { askStytch } from './ask-stytch.ts';
import { createStytchIdp, type StytchAuthorizationParams } from './stytch-idp.ts';

/** The session form purpose of the consent form; its subject is a digest of the request it decides. */
const CONSENT = 'consent';

/**
 * The page Stytch Connected Apps sends MCP clients to (the dashboard's "Authorization URL"), which
 * seed 1 leaves to the application: the person signs in, then consents, and Stytch issues the code.
 *
 * - `GET <path>?client_id=…`: a browser that is not signed in signs in first (`sign-in.ts`: Stytch's
 *   OAuth login, or a Portcullis account attested to Stytch) and comes back here. Then Stytch's Start
 *   OAuth Authorization for the person's Stytch user: its client, scope results and whether consent
 *   is needed. Without consent needed, OAuth Authorize at once; else our consent page.
 * - `POST <path>`: Allow or Deny (CSRF token bound to the session and to the request's parameters)
 *   goes to OAuth Authorize with `consent_granted`, and the browser to the URL Stytch answers.
 *
 * Stytch's refusals are error pages with its message; an unreachable Stytch is a 503 page. The
 * page never redirects to a redirect URI before Stytch has validated it, and only to the one asked for.
 */
export function mountStytchAuthorizationPage(app: Hono, ctx: AppContext, settings: StytchAuthorizationPage): void {
  const stytch = ctx.config.identityProvider.stytch ?? {};
  const idp = createStytchIdp({ apiUrl: stytchApiUrl(stytch), projectId: settings.projectId, secret: settings.secret, fetch: ctx.fetch });
  // Each login start stores a transaction, and each page view calls Stytch: both are per-address limited.
  const limiter = createRateLimiter({ name: 'stytch-authorization', perMinute: ctx.config.authorizePerMinute, storage: ctx.storage, clock: ctx.clock, metrics: ctx.metrics });
  const limited = async (c: Context): Promise<Response | null> => {
    const taken = await limiter.take(clientAddress(c));
    return taken.ok ? null : tooManyRequestsPage(ctx, taken.retryAfterSeconds);
  };
  const page: PageContext = { ctx, settings, idp, limited };
  const signIn = chooseSignIn(page);

  app.get(settings.path, pageHandler(ctx, async (c: Context) => (await limited(c)) ?? showAuthorization(page, signIn, c.req.raw)));
  app.post(settings.path, pageHandler(ctx, async (c: Context) => (await limited(c)) ?? decide(page, signIn, c.req.raw)));
  signIn.mount(app);
}

/** How people sign in (`signIn`), and how their Stytch user is found. */
function chooseSignIn(page: PageContext): SignIn {
  const { ctx, settings } = page;
  const { stytch, oidc, displayName } = ctx.config.identityProvider;
  switch (settings.signIn.kind) {
    case 'stytch-email':
      return emailSignIn(page);
    case 'stytch-oauth': {
      const login = new StytchIdentityProvider(stytch ?? {});
      return upstreamSignIn(page, login, linkedStytchUser(page, login.issuer));
    }
    case 'oidc':
      return upstreamSignIn(page, new OidcIdentityProvider(oidc ?? {}, displayName), attestedStytchUser(page, settings.signIn.trustedAuthTokenProfileId));
    case 'local':
      return localSignIn(page, attestedStytchUser(page, settings.signIn.trustedAuthTokenProfileId));
  }
}

async function showAuthorization(page: PageContext, signIn: SignIn, request: Request): Promise<Response> {
  const { ctx } = page;
  const query = new URL(request.url).searchParams;
  const parsed = parseAuthorizationRequest(query);
  if (!parsed.ok) return errorPage(ctx, { title: 'This sign-in link is not valid', message: parsed.message }, 400);
  const hidden = canonicalQuery(query);
  const user = await askStytch(page, () => signIn.user(request));
  if (user instanceof Response) return user;
  if (!user) return signIn.start(request, hidden);

  const start = await askStytch(page, () => page.idp.authorizeStart(parsed.params, user.userId));
  if (start instanceof Response) return start;
  if (!start.consentRequired) return authorize(page, parsed.params, user.userId, false);

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
      // As Stytch's own consent screen: a client without a name is named by where it sends you.
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

async function decide(page: PageContext, signIn: SignIn, request: Request): Promise<Response> {
  const { ctx } = page;
  const form = await readForm(request);
  const hidden = form.get('request') ?? '';
  const parsed = parseAuthorizationRequest(new URLSearchParams(hidden));
  if (!parsed.ok) return errorPage(ctx, { title: 'This sign-in link is not valid', message: parsed.message }, 400);
  const user = await askStytch(page, () => signIn.user(request));
  if (user instanceof Response) return user;
  // The session ended while the page was open: back to the page, which signs in first.
  if (!user) return seeOther(`${page.settings.path}?${hidden}`);
  if (!verifySessionCsrf(user.signedIn.session, CONSENT, requestDigest(hidden), form.get('csrf_token') ?? undefined)) return formExpiredPage(ctx);
  const decision = form.get('decision');
  if (decision !== 'allow' && decision !== 'deny') return errorPage(ctx, { title: 'No decision was made', message: 'Choose Allow or Deny. Nothing was changed.' }, 400);
  const audit = { user_id: user.signedIn.user.id, client_id: parsed.params.client_id, scope: parsed.params.scopes.join(' '), via: 'stytch' };
  ctx.logger.audit(decision === 'allow' ? 'consent.granted' : 'consent.denied', audit);
  return authorize(page, parsed.params, user.userId, decision === 'allow');
}

/** OAuth Authorize, then the browser goes where Stytch says: the client's redirect URI, with a code or an error. */
async function authorize(page: PageContext, params: StytchAuthorizationParams, userId: string, consentGranted: boolean): Promise<Response> {
  const target = await askStytch(page, () => page.idp.authorize(params, userId, consentGranted));
  if (target instanceof Response) return target;
  // Only ever the redirect URI this request named (and Stytch validated): never a URL from elsewhere.
  const asked = new URL(params.redirect_uri);
  const given = new URL(target);
  if (given.origin !== asked.origin || given.pathname !== asked.pathname) {
    page.ctx.logger.warn('stytch authorize answered another redirect uri', { client_id: params.client_id });
    return errorPage(page.ctx, { title: 'This sign-in cannot be completed', message: 'The authorization server answered with an unexpected address, so you were not sent anywhere.' }, 502);
  }
  return seeOther(given.href);
}
