import { OAuthError } from '../../errors/oauth-error.ts';
import { PKCE_CHALLENGE } from '../../util/crypto.ts';
import type { RequestParams } from './params.ts';

const redirectable = true;

/**
 * Phase 2: PKCE is required of every client, and only S256 (SEC-11, OAuth 2.1 §4.1.1). An absent
 * `code_challenge_method` means `plain` (RFC 7636 §4.3), so it is refused like `plain` itself.
 * Returns the challenge, which is bound to the code and checked by the token endpoint.
 */
export function checkPkce(params: RequestParams): string {
  const challenge = params.one('code_challenge', { redirectable });
  const method = params.one('code_challenge_method', { redirectable });
  if (challenge === undefined) {
    throw new OAuthError('invalid_request', 'code_challenge is required (PKCE with code_challenge_method=S256).', { redirectable });
  }
  if (method === undefined) {
    throw new OAuthError('invalid_request', 'code_challenge_method is required and must be S256 (plain is not accepted).', { redirectable });
  }
  if (method !== 'S256') {
    throw new OAuthError('invalid_request', 'code_challenge_method must be S256 (plain is not accepted).', { redirectable });
  }
  if (!PKCE_CHALLENGE.test(challenge)) {
    throw new OAuthError('invalid_request', 'code_challenge must be the 43-character base64url SHA-256 of the code verifier.', { redirectable });
  }
  return challenge;
}
