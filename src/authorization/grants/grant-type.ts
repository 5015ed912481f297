import type { AppContext } from '../../context.ts';
import type { ClientRecord } from '../../storage/types.ts';
import type { FormParams } from '../form.ts';
import type { TokenRequestKey } from './token-dpop.ts';

/** A successful token response (OAuth 2.1 §3.2.3, OIDC Core §3.1.3.3), exactly as it goes on the wire. */
export interface TokenResponseBody {
  access_token: string;
  /** `DPoP` when the access token is bound to the request's DPoP key (RFC 9449 §5). */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

/**
 * One grant type the token endpoint dispatches to by its `grant_type` name. The endpoint has
 * already parsed the form and authenticated the client; the grant validates its own parameters,
 * changes nothing on a bad request, and throws `OAuthError`s with RFC 6749 §5.2 codes.
 */
export interface GrantType {
  readonly name: string;
  /** May this client use the grant at all? `unauthorized_client` otherwise (RFC 6749 §5.2). */
  permits(client: ClientRecord): boolean;
  /** `key`: the DPoP key the request proved it holds (already verified), null for a bearer request. */
  handle(ctx: AppContext, client: ClientRecord, form: FormParams, key: TokenRequestKey): Promise<TokenResponseBody>;
}
