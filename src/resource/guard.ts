import type { JWTPayload } from 'jose';
import type { AppContext } from '../http/context.ts';
import { extractBearer } from './bearer.ts';
import { bearerChallengeResponse } from './challenge.ts';
import { protectedResourceMetadataUrl } from './metadata.ts';
import { missingScopes } from './scopes.ts';
import type { AccessTokenVerifier } from './types.ts';

/** Who is calling, as established by a verified access token. */
export interface Principal {
  subject: string;
  clientId: string;
  scopes: string[];
  claims: JWTPayload;
  /** The raw access token, for handing to the MCP SDK's AuthInfo; never logged. */
  token: string;
  /** `exp`, seconds since the epoch. */
  expiresAt: number;
}

export interface ResourceGuard {
  /** The principal, or the 401 to send back. Runs before anything else touches the request (RS-17). */
  authenticate(request: Request): Promise<Principal | Response>;
  /** `undefined` when the principal holds `required` (after scope hierarchy), else the 403 step-up challenge. */
  authorize(principal: Principal, required: readonly string[]): Response | undefined;
  /** Absolute URL of this resource's Protected Resource Metadata. */
  readonly resourceMetadataUrl: string;
}

/** Never says which check failed: that detail is for the logs (and never includes the token). */
const INVALID_TOKEN_DESCRIPTION = 'The access token is invalid, expired or revoked.';

type GuardContext = Pick<AppContext, 'config' | 'logger'>;

export function createResourceGuard(ctx: GuardContext, verifier: AccessTokenVerifier): ResourceGuard {
  const resourceMetadataUrl = protectedResourceMetadataUrl(ctx.config);
  // What a client should ask for to start using the endpoint (RS-04); offline_access never (RS-16).
  const startScopes = ctx.config.defaultScopes;

  const invalidToken = (reason: string, detail?: string): Response => {
    ctx.logger.debug('access token rejected', { reason, detail });
    return bearerChallengeResponse({
      error: 'invalid_token',
      errorDescription: INVALID_TOKEN_DESCRIPTION,
      scopes: startScopes,
      resourceMetadata: resourceMetadataUrl,
    });
  };

  return {
    resourceMetadataUrl,

    async authenticate(request) {
      const credential = extractBearer(request);
      if (credential.kind === 'none') {
        // RFC 6750 §3.1: no credentials, so no error code; just where to go and what to ask for.
        return bearerChallengeResponse({ scopes: startScopes, resourceMetadata: resourceMetadataUrl });
      }
      if (credential.kind === 'malformed') return invalidToken('malformed');
      const outcome = await verifier.verify(credential.token);
      if (!outcome.ok) return invalidToken(outcome.reason, outcome.detail);
      const { subject, clientId, scopes, claims, expiresAt } = outcome.token;
      return { subject, clientId, scopes, claims, expiresAt, token: credential.token };
    },

    authorize(principal, required) {
      const missing = missingScopes(principal.scopes, required);
      if (missing.length === 0) return undefined;
      ctx.logger.debug('insufficient scope', { subject: principal.subject, client_id: principal.clientId, required, missing });
      // RS-13b: name every scope the operation needs in one challenge; the client unions it with what it has.
      return bearerChallengeResponse({
        error: 'insufficient_scope',
        errorDescription: `This operation requires the scope${required.length > 1 ? 's' : ''} ${required.join(' ')}.`,
        scopes: required,
        resourceMetadata: resourceMetadataUrl,
      });
    },
  };
}
