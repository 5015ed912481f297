import type { AppContext } from '../../http/context.ts';
import type { AuthorizationRequestRecord } from '../../storage/types.ts';
import { randomId } from '../../util/crypto.ts';
import type { ValidAuthorizationRequest } from './validate.ts';

/** A validated request waits this long for login and consent. */
export const AUTHORIZATION_REQUEST_TTL_MS = 10 * 60_000;

/**
 * A validated request under a random id. Once stored, the pages carry only that id, so nothing the
 * client sent is re-read from a form (and cannot be altered there) between /authorize and the
 * decision. /authorize stores it only when a page must be shown (see `continueAuthorization`).
 */
export function pendingRequestRecord(ctx: Pick<AppContext, 'clock' | 'random'>, valid: ValidAuthorizationRequest): AuthorizationRequestRecord {
  const now = ctx.clock.now();
  return {
    id: randomId(ctx.random),
    clientId: valid.client.clientId,
    redirectUri: valid.redirectUri,
    state: valid.state,
    scopes: valid.scopes,
    resource: valid.resource,
    codeChallenge: valid.codeChallenge,
    nonce: valid.nonce,
    prompt: valid.prompt,
    createdAt: now,
    expiresAt: now + AUTHORIZATION_REQUEST_TTL_MS,
  };
}

/** Request ids are 16 random bytes in base64url; anything else is not one and costs no database read. */
export const isRequestId = (value: string | null | undefined): value is string => typeof value === 'string' && /^[A-Za-z0-9_-]{22}$/.test(value);
