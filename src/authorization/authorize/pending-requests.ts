import type { AppContext } from '../../http/context.ts';
import type { AuthorizationRequestRecord } from '../../storage/types.ts';
import { randomId } from '../../util/crypto.ts';
import type { ValidAuthorizationRequest } from './validate.ts';

/** A validated request waits this long for login and consent. */
export const AUTHORIZATION_REQUEST_TTL_MS = 10 * 60_000;

/**
 * Stores a validated request under a random id. The pages carry only that id, so nothing the client
 * sent is re-read from a form (and cannot be altered there) between /authorize and the decision.
 */
export async function savePendingRequest(ctx: Pick<AppContext, 'storage' | 'clock' | 'random'>, valid: ValidAuthorizationRequest): Promise<AuthorizationRequestRecord> {
  const now = ctx.clock.now();
  const record: AuthorizationRequestRecord = {
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
  await ctx.storage.authorizationRequests.create(record);
  return record;
}

/** Request ids are 16 random bytes in base64url; anything else is not one and costs no database read. */
export const isRequestId = (value: string | null | undefined): value is string => typeof value === 'string' && /^[A-Za-z0-9_-]{22}$/.test(value);
