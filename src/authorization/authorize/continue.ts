import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import type { SignedIn } from '../../identity/login-sessions.ts';
import { upstreamProvider } from '../../identity/providers/index.ts';
import type { AuthorizationRequestRecord, ClientRecord } from '../../storage/types.ts';
import { issueAuthorizationCode } from './issue-code.ts';
import { mayRedirectUnasked } from './error-redirect.ts';
import { invalidAuthorizationRequestPage, requestExpiredPage } from './pages.ts';
import { randomId } from '../../util/crypto.ts';
import { requestHandle } from './pending-requests.ts';
import { parsePrompt } from './prompt.ts';
import { codeRedirect, errorResponse, seeOther } from './redirect.ts';

export interface AuthorizationStep {
  request: AuthorizationRequestRecord;
  /**
   * False when the request is not in the database: /authorize has just built it, or a sealed login
   * link carried it (pending-requests.ts). It is stored only when a signed-in user must see the
   * consent page, so neither unauthenticated traffic nor a returning user's request writes anything.
   * Default true (a stored request's consent form continues it).
   */
  stored?: boolean;
  client: ClientRecord;
  signedIn: SignedIn | null;
  /** The user has just typed their password for this request, which satisfies prompt=login and prompt=select_account. */
  justSignedIn: boolean;
  /** The user chose to continue as the signed-in account on the login page (prompt=select_account). */
  accountChosen?: boolean;
  /** Headers to carry on whatever response comes next (e.g. the new session's Set-Cookie). */
  headers?: Headers;
}

/** `handle`: a stored request's id or a sealed request (pending-requests.ts). */
export const loginUrl = (ctx: Pick<AppContext, 'config'>, handle: string): string => `${ctx.config.issuer}/login?request=${encodeURIComponent(handle)}`;
export const consentUrl = (ctx: Pick<AppContext, 'config'>, handle: string): string => `${ctx.config.issuer}/consent?request=${encodeURIComponent(handle)}`;

/** True when the user already allowed this client every scope it asks for now. */
export async function consentCovers(ctx: Pick<AppContext, 'storage'>, userId: string, request: AuthorizationRequestRecord): Promise<boolean> {
  const remembered = await ctx.storage.consents.get(userId, request.clientId);
  return remembered !== null && request.scopes.every((s) => remembered.scopes.includes(s));
}

/**
 * The next step of a stored authorization request: sign in, then consent, then the code. Called by
 * /authorize and after a successful login. Login is needed when the browser has no session or the
 * client sent prompt=login (prompt=select_account: the login page, which offers the signed-in account); consent when no remembered consent covers the scopes or prompt=consent.
 * With prompt=none either need is an error redirect instead of a page (OIDC Core §3.1.2.6).
 * With an upstream identity provider a needed login goes through the consent page first, which then
 * sends the user upstream; the callback issues the code (src/authorization/endpoints/callback.ts).
 */
export async function continueAuthorization(ctx: AppContext, step: AuthorizationStep): Promise<Response> {
  const { request, client, signedIn, headers } = step;
  const stored = step.stored ?? true;
  const prompt = parsePrompt(request.prompt);
  /** Nobody has signed in yet: the next page carries the request sealed, and nothing is stored (HARD-2). */
  const toSignIn = async (page: typeof loginUrl): Promise<Response> => seeOther(page(ctx, await requestHandle(ctx, request, stored)), headers);

  if (!signedIn || (prompt.login && !step.justSignedIn)) {
    if (prompt.none) {
      const error = new OAuthError('login_required', 'The user must sign in, and prompt=none forbids showing a page.');
      // SEC-08: nobody has signed in, so a self-registered client's redirect URI is not trusted enough
      // to send the browser to it unasked (src/authorization/authorize/error-redirect.ts).
      return refuseUnlessUntrusted(ctx, step, error);
    }
    // With an upstream identity provider the consent page comes first and leads there (BP-01, UP-01).
    if (upstreamProvider(ctx)) return toSignIn(consentUrl);
    return toSignIn(loginUrl);
  }
  // prompt=select_account (OIDC Core §3.1.2.1): the login page offers to continue as this account or
  // to sign in as another. (prompt=none cannot be combined with it: checkPrompt refuses that.)
  if (prompt.selectAccount && !step.justSignedIn && !step.accountChosen) {
    return toSignIn(upstreamProvider(ctx) ? consentUrl : loginUrl);
  }

  if (prompt.consent || !(await consentCovers(ctx, signedIn.user.id, request))) {
    if (prompt.none) return refuseUnlessUntrusted(ctx, step, new OAuthError('consent_required', 'The user must approve access, and prompt=none forbids showing a page.'));
    // A signed-in user's consent page: the request is stored, so the decision takes it exactly once.
    // A fresh id: a sealed link may be continued more than once, and each continuation is its own row.
    const id = stored ? request.id : randomId(ctx.random);
    if (!stored) await ctx.storage.authorizationRequests.create({ ...request, id });
    return seeOther(consentUrl(ctx, id), headers);
  }

  // Remembered consent: decide now. A stored request is taken atomically, so it yields at most one
  // code; one never stored is decided here, once per /authorize or per password typed.
  const taken = stored ? await ctx.storage.authorizationRequests.take(request.id, ctx.clock.now()) : request;
  if (!taken) return requestExpiredPage(ctx, headers);
  const respond = codeRedirect(taken, ctx.config.issuer, headers);
  const code = await issueAuthorizationCode(ctx, taken, client, signedIn.session);
  ctx.logger.audit('consent.reused', { user_id: signedIn.user.id, client_id: client.clientId, scope: taken.scopes.join(' ') });
  return respond(code);
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
