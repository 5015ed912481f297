import { OAuthError } from '../../errors/oauth-error.ts';
import { JKT_PATTERN } from '../../dpop/proof.ts';
import type { AppContext } from '../../context.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { checkClient } from './client.ts';
import { quoteForDescription, type RequestParams } from './params.ts';
import { checkPkce } from './pkce.ts';
import { checkPrompt } from './prompt.ts';
import { checkRedirectUri } from './redirect-uri.ts';
import { checkResource } from './resource.ts';
import { checkResponseType } from './response-type.ts';
import { checkScope } from './scope.ts';

/** Where an authorization response (success or error) may be sent, once phase 1 has passed. */
export interface RedirectTarget {
  client: ClientRecord;
  redirectUri: string;
  /** Echoed exactly when sent (OAuth 2.1 §4.1.2); null when absent. */
  state: string | null;
}

export interface ValidAuthorizationRequest extends RedirectTarget {
  scopes: string[];
  resource: string;
  codeChallenge: string;
  nonce: string | null;
  prompt: string | null;
  /** RFC 9449 §10: the DPoP key thumbprint the code will be bound to; null when not sent. */
  dpopJkt: string | null;
}

/**
 * Phase 1 (SEC-06, AS-24): the client and its redirect URI. Throws a non-redirectable OAuthError,
 * which the caller shows on its own error page.
 */
export async function resolveRedirectTarget(ctx: AppContext, params: RequestParams): Promise<RedirectTarget> {
  const client = await checkClient(ctx, params);
  const redirectUri = checkRedirectUri(client, params);
  // A repeated state cannot be echoed "exactly"; the error goes back without one.
  let state: string | null = null;
  try {
    state = params.one('state') ?? null;
  } catch {
    state = null;
  }
  return { client, redirectUri, state };
}

/**
 * Phase 2: every other parameter. Throws a redirectable OAuthError, which the caller sends to the
 * client's redirect URI with `state` and `iss` (RFC 9207), unless that URI is not trusted yet
 * (`phaseTwoErrorResponse`, SEC-08).
 */
export function validateRequestParameters(ctx: AppContext, params: RequestParams, target: RedirectTarget): ValidAuthorizationRequest {
  // SEC-27: no parameter may repeat, except RFC 8707 `resource`.
  const repeated = params.repeated(['resource']);
  if (repeated.length > 0) {
    throw new OAuthError('invalid_request', `Parameters must not repeat: ${quoteForDescription(repeated.join(', '))}.`, { redirectable: true });
  }
  checkResponseType(params, target.client, ctx.capabilities);
  const codeChallenge = checkPkce(params);
  const scopes = checkScope(params, target.client, ctx.config, ctx.capabilities);
  const resource = checkResource(params, ctx.config.resource, ctx.config.resources);
  const prompt = checkPrompt(params);
  const nonce = params.one('nonce', { redirectable: true }) ?? null;
  const dpopJkt = checkDpopJkt(params);
  return { ...target, scopes, resource, codeChallenge, nonce, prompt, dpopJkt };
}

/** RFC 9449 §10 `dpop_jkt`: a JWK SHA-256 thumbprint (RFC 7638), base64url, or nothing. */
function checkDpopJkt(params: RequestParams): string | null {
  const value = params.one('dpop_jkt', { redirectable: true });
  if (value === undefined) return null;
  if (!JKT_PATTERN.test(value)) {
    throw new OAuthError('invalid_request', 'dpop_jkt must be a base64url JWK SHA-256 thumbprint (RFC 9449 section 10).', { redirectable: true });
  }
  return value;
}
