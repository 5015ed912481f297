import type { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import { currentLoginSession } from '../../identity/login-sessions.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { invalidAuthorizationRequestPage } from './pages.ts';
import { errorResponse } from './redirect.ts';
import type { RedirectTarget } from './validate.ts';

/**
 * Redirect URIs the operator registered (`portcullis clients add`) are trusted. Those of dynamically
 * registered clients (DCR) and of client ID metadata documents are not: anyone can create such a
 * client with any https redirect URI, for instance a phishing page.
 */
export const trustsRedirectUris = (client: Pick<ClientRecord, 'source'>): boolean => client.source === 'cli';

/**
 * Whether the browser may be sent to this client's redirect URI without asking: the operator
 * registered it, or the signed-in user has approved this client before. Anyone can create a client
 * (DCR, a metadata document) whose redirect URI is a phishing page; being signed in here says nothing
 * about that client (RFC 9700 §4.11.2).
 */
export async function mayRedirectUnasked(ctx: AppContext, client: ClientRecord, userId: string | undefined): Promise<boolean> {
  if (trustsRedirectUris(client)) return true;
  return userId !== undefined && (await ctx.storage.consents.get(userId, client.clientId)) !== null;
}

/**
 * A phase-2 error of /authorize (the client and redirect URI are known good, another parameter is
 * not). OAuth 2.1 §7.12.2 and RFC 9700 §4.11.2 (SEC-08): an attacker can register a client whose
 * redirect URI is a phishing page and send people a link with a bad scope; an immediate error
 * redirect would make this server an open redirector. So the error goes back to the client with
 * `state` and `iss` (AS-26) only when it may be redirected to unasked (above); otherwise our error
 * page tells the user, who is not sent anywhere.
 */
export async function phaseTwoErrorResponse(ctx: AppContext, request: Request, target: RedirectTarget, error: OAuthError): Promise<Response> {
  const signedIn = await currentLoginSession(ctx, request);
  if (await mayRedirectUnasked(ctx, target.client, signedIn?.user.id)) return errorResponse(target, error, ctx.config.issuer);
  return invalidAuthorizationRequestPage(ctx, error);
}
