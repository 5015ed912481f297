import type { AppContext } from '../../context.ts';
import type { ClientRecord } from '../../storage/types.ts';
import type { FormParams } from '../form.ts';

/** A successful token response (OAuth 2.1 §3.2.3, OIDC Core §3.1.3.3), exactly as it goes on the wire. */
export interface TokenResponseBody {
  access_token: string;
  token_type: 'Bearer';
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
  handle(ctx: AppContext, client: ClientRecord, form: FormParams): Promise<TokenResponseBody>;
}
