import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../http/context.ts';
import type { SignedIn } from '../../identity/login-sessions.ts';
import { upstreamProvider } from '../../identity/providers/index.ts';
import type { AuthorizationRequestRecord, ClientRecord } from '../../storage/types.ts';
import { issueAuthorizationCode } from './issue-code.ts';
import { requestExpiredPage } from './pages.ts';
import { parsePrompt } from './prompt.ts';
import { codeResponse, errorResponse, seeOther } from './redirect.ts';

export interface AuthorizationStep {
  request: AuthorizationRequestRecord;
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
  const prompt = parsePrompt(request.prompt);

  if (!signedIn || (prompt.login && !step.justSignedIn)) {
    if (prompt.none) return refuse(ctx, request, new OAuthError('login_required', 'The user must sign in, and prompt=none forbids showing a page.'), headers);
    // With an upstream identity provider the consent page comes first and leads there (BP-01, UP-01).
    if (upstreamProvider(ctx.config)) return seeOther(consentUrl(ctx, request.id), headers);
    return seeOther(loginUrl(ctx, request.id), headers);
  }

  if (prompt.consent || !(await consentCovers(ctx, signedIn.user.id, request))) {
    if (prompt.none) return refuse(ctx, request, new OAuthError('consent_required', 'The user must approve access, and prompt=none forbids showing a page.'), headers);
    return seeOther(consentUrl(ctx, request.id), headers);
  }

  // Remembered consent: decide now. `take` is atomic, so a request yields at most one code.
  const taken = await ctx.storage.authorizationRequests.take(request.id, ctx.clock.now());
  if (!taken) return requestExpiredPage(ctx, headers);
  const code = await issueAuthorizationCode(ctx, taken, client, signedIn.session);
  ctx.logger.audit('consent.reused', { user_id: signedIn.user.id, client_id: client.clientId, scope: taken.scopes.join(' ') });
  return codeResponse(taken, code, ctx.config.issuer, headers);
}

/** An error for the client (the redirect URI was validated in phase 1); the request is spent. */
async function refuse(ctx: AppContext, request: AuthorizationRequestRecord, error: OAuthError, headers?: Headers): Promise<Response> {
  await ctx.storage.authorizationRequests.take(request.id, ctx.clock.now());
  return errorResponse(request, error, ctx.config.issuer, headers);
}
