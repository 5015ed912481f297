import { OAuthError } from '../../errors/oauth-error.ts';

/**
 * Why a phase-1 refusal is most likely a client's out-of-date saved registration rather than a broken
 * link: its client_id is not (or no longer) registered here, or it asks to return to an address its
 * registration does not list. The refusal page then tells the person how to reset common clients.
 */
export type StaleReason = 'unknown_client' | 'redirect_uri_mismatch';

/** A phase-1 `OAuthError` (never redirected, SEC-06) that also says which kind of staleness it is. */
export class StaleRegistrationError extends OAuthError {
  readonly reason: StaleReason;
  readonly clientId: string;
  /** The redirect URI asked for (mismatch only), for the technical details. */
  readonly redirectUri: string | undefined;

  constructor(reason: StaleReason, description: string, details: { clientId: string; redirectUri?: string; detail: string }) {
    super(reason === 'unknown_client' ? 'invalid_client' : 'invalid_request', description, { status: 400, detail: details.detail });
    this.reason = reason;
    this.clientId = details.clientId;
    this.redirectUri = details.redirectUri;
  }
}
