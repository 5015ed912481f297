import { OAuthError } from '../../errors/oauth-error.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { classifyRedirectUri, findRegisteredRedirectUri } from '../clients/redirect-uris.ts';
import type { RequestParams } from './params.ts';
import { StaleRegistrationError } from './stale-registration.ts';

/**
 * Phase 1, step 2: where the answer will go. Until this has passed, nothing is redirected (SEC-06,
 * AS-24): a mismatch is shown on our error page, or the server would be an open redirector.
 *
 * Returns the URI exactly as requested (RFC 8252 §7.3 lets a loopback port differ from the registered
 * one, so the requested form is the one the client listens on), or the only registered URI when the
 * request names none (OAuth 2.1 §2.3.2: allowed only when exactly one is registered, SEC-05).
 */
export function checkRedirectUri(client: ClientRecord, params: RequestParams): string {
  const requested = params.one('redirect_uri');
  if (requested === undefined) {
    const [only, ...others] = client.redirectUris;
    if (only !== undefined && others.length === 0) return acceptable(only);
    throw new OAuthError('invalid_request', 'This application registered several return addresses, so the request must name one (redirect_uri is missing).');
  }
  acceptable(requested);
  // AS-23: exact string match, except the loopback port (RFC 8252 §7.3).
  if (!findRegisteredRedirectUri(requested, client.redirectUris)) {
    throw new StaleRegistrationError('redirect_uri_mismatch', 'The return address (redirect_uri) is not one this application registered.', {
      clientId: client.clientId,
      redirectUri: requested,
      detail: `redirect_uri ${requested.slice(0, 200)} not registered for client ${client.clientId}`,
    });
  }
  return requested;
}

/**
 * AS-22: the registration rules are enforced at authorization time too, whatever was stored at
 * registration (a client registered before a rule existed: HARD-3 control characters, HARD-5 schemes).
 */
function acceptable(uri: string): string {
  const kind = classifyRedirectUri(uri);
  if ('error' in kind) throw new OAuthError('invalid_request', 'The return address (redirect_uri) is not acceptable.', { detail: kind.error });
  return uri;
}
