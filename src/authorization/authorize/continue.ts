import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../http/context.ts';
import type { SignedIn } from '../../identity/login-sessions.ts';
import { upstreamProvider } from '../../identity/providers/index.ts';
import type { AuthorizationRequestRecord, ClientRecord } from '../../storage/types.ts';
import { issueAuthorizationCode } from './issue-code.ts';
import { mayRedirectUnasked } from './error-redirect.ts';
import { invalidAuthorizationRequestPage, requestExpiredPage } from './pages.ts';
import { parsePrompt } from './prompt.ts';
import { codeResponse, errorResponse, seeOther } from './redirect.ts';

export interface AuthorizationStep {
  request: AuthorizationRequestRecord;
  /**
   * False when /authorize has just built the request and not stored it: it is stored only if a page
   * must be shown (the pages carry its id), so a returning user's request costs no write at all.
   * Default true (the login page continues a stored request).
   */
  stored?: boolean;
  client: ClientRecord;
  signedIn: SignedIn | null;
  /** The user has just typed their password for this request, which satisfies prompt=login. */
  justSignedIn: boolean;
  /** Headers to carry on whatever response comes next (e.g. the new session's Set-Cookie). */
  headers?: Headers;
}

export const loginUrl = (ctx: Pick<AppContext, 'config'>, requestId: string): string => `${ctx.config.issuer}/login?request=${encodeURIComponent(requestId)}`;
export const consentUrl = (ctx: Pick<AppContext, 'config'>, requestId: string): string => `${ctx.config.issuer}/consent?request=${encodeURIComponent(requestId)}`;

/** True when the user already allowed this client every scope it asks for now. */
export async function consentCovers(ctx: Pick<AppContext, 'storage'>, userId: string, request: AuthorizationRequestRecord): Promise<boolean> {
  const remembered = await ctx.storage.consents.get(userId, request.clientId);
  return remembered !== null && request.scopes.every((s) => remembered.scopes.includes(s));
}

/**
 * The next step of a stored authorization request: sign in, then consent, then the code. Called by
 * /authorize and after a successful login. Login is needed when the browser has no session or the
 * client sent prompt=login; consent when no remembered consent covers the scopes or prompt=consent.
 * With prompt=none either need is an error redirect instead of a page (OIDC Core §3.1.2.6).
 * With an upstream identity provider a needed login goes through the consent page first, which then
 * sends the user upstream; the callback issues the code (src/authorization/endpoints/callback.ts).
 */
export async function continueAuthorization(ctx: AppContext, step: AuthorizationStep): Promise<Response> {
  const { request, client, signedIn, headers } = step;
  const stored = step.stored ?? true;
  const prompt = parsePrompt(request.prompt);
  /** A page is next: it needs the request stored, under the id it carries. */
  const toPage = async (url: string): Promise<Response> => {
    if (!stored) await ctx.storage.authorizationRequests.create(request);
    return seeOther(url, headers);
  };

  if (!signedIn || (prompt.login && !step.justSignedIn)) {
    if (prompt.none) {
      const error = new OAuthError('login_required', 'The user must sign in, and prompt=none forbids showing a page.');
      // SEC-08: nobody has signed in, so a self-registered client's redirect URI is not trusted enough
      // to send the browser to it unasked (src/authorization/authorize/error-redirect.ts).
      return refuseUnlessUntrusted(ctx, step, error);
    }
    // With an upstream identity provider the consent page comes first and leads there (BP-01, UP-01).
    if (upstreamProvider(ctx.config)) return toPage(consentUrl(ctx, request.id));
    return toPage(loginUrl(ctx, request.id));
  }

  if (prompt.consent || !(await consentCovers(ctx, signedIn.user.id, request))) {
    if (prompt.none) return refuseUnlessUntrusted(ctx, step, new OAuthError('consent_required', 'The user must approve access, and prompt=none forbids showing a page.'));
    return toPage(consentUrl(ctx, request.id));
  }

  // Remembered consent: decide now. A stored request is taken atomically, so it yields at most one
  // code; one never stored was seen by nobody else and is decided exactly once, here.
  const taken = stored ? await ctx.storage.authorizationRequests.take(request.id, ctx.clock.now()) : request;
  if (!taken) return requestExpiredPage(ctx, headers);
  const code = await issueAuthorizationCode(ctx, taken, client, signedIn.session);
  ctx.logger.audit('consent.reused', { user_id: signedIn.user.id, client_id: client.clientId, scope: taken.scopes.join(' ') });
  return codeResponse(taken, code, ctx.config.issuer, headers);
}

/** An error for the client (the redirect URI was validated in phase 1); the request is spent. */
/**
 * prompt=none's errors go back to the client only if it may be redirected to unasked (SEC-08: the
 * operator registered it, or this user approved it before); otherwise our page, and nobody is sent anywhere.
 */
async function refuseUnlessUntrusted(ctx: AppContext, step: AuthorizationStep, error: OAuthError): Promise<Response> {
  if (await mayRedirectUnasked(ctx, step.client, step.signedIn?.user.id)) return refuse(ctx, step, error);
  if (step.stored ?? true) await ctx.storage.authorizationRequests.take(step.request.id, ctx.clock.now());
  return invalidAuthorizationRequestPage(ctx, error);
}

async function refuse(ctx: AppContext, { request, stored = true, headers }: AuthorizationStep, error: OAuthError): Promise<Response> {
  if (stored) await ctx.storage.authorizationRequests.take(request.id, ctx.clock.now());
  return errorResponse(request, error, ctx.config.issuer, headers);
}
