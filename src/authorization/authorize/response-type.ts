import { OAuthError } from '../../errors/oauth-error.ts';
import type { ClientRecord } from '../../storage/types.ts';
import type { Capabilities } from '../capabilities.ts';
import { quoteForDescription, type RequestParams } from './params.ts';

const redirectable = true;

/**
 * Phase 2: only the authorization code flow exists (OAuth 2.1 §4.1.1), answered in the query (the only
 * response mode advertised). Anything else is `unsupported_response_type` / `invalid_request`.
 */
export function checkResponseType(params: RequestParams, client: ClientRecord, capabilities: Capabilities): void {
  const responseType = params.one('response_type', { redirectable });
  if (responseType === undefined) throw new OAuthError('invalid_request', 'response_type is required; use code.', { redirectable });
  if (!(capabilities.responseTypes as readonly string[]).includes(responseType)) {
    throw new OAuthError('unsupported_response_type', `response_type ${quoteForDescription(responseType)} is not supported; use code.`, { redirectable });
  }
  const responseMode = params.one('response_mode', { redirectable });
  if (responseMode !== undefined && !(capabilities.responseModes as readonly string[]).includes(responseMode)) {
    throw new OAuthError('invalid_request', `response_mode ${quoteForDescription(responseMode)} is not supported; use query.`, { redirectable });
  }
  // RFC 7591 §2: a client may only use the response types and grants it registered.
  if (!client.responseTypes.includes(responseType) || !client.grantTypes.includes('authorization_code')) {
    throw new OAuthError('unauthorized_client', 'This application did not register for the authorization code flow.', { redirectable });
  }
}
