import type { AppContext } from '../../context.ts';
import type { AuthorizationRequestRecord } from '../../storage/types.ts';
import { randomId } from '../../util/crypto.ts';
import { openSealedRequest, sealRequest } from './sealed-request.ts';
import type { ValidAuthorizationRequest } from './validate.ts';

/** A validated request waits this long for login and consent. */
export const AUTHORIZATION_REQUEST_TTL_MS = 10 * 60_000;

/**
 * A validated request under a random id. The pages carry its id once stored, or the request sealed
 * (HMAC) before that, so nothing the client sent can be altered between /authorize and the decision.
 * It is stored only when a signed-in user must be shown the consent page (see `continueAuthorization`).
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
    ...(valid.dpopJkt !== null ? { dpopJkt: valid.dpopJkt } : {}),
  };
}

/** Request ids are 16 random bytes in base64url; anything else is not one and costs no database read. */
export const isRequestId = (value: string | null | undefined): value is string => typeof value === 'string' && /^[A-Za-z0-9_-]{22}$/.test(value);

/**
 * A request between /authorize and its decision, as the pages name it (`request=` handle): a stored
 * row's id once a signed-in user must consent, or the sealed request itself before anyone has signed
 * in (sealed-request.ts), so that unauthenticated traffic stores nothing.
 */
export interface PendingRequest {
  request: AuthorizationRequestRecord;
  /** What the pages carry and CSRF tokens are bound to. */
  handle: string;
  stored: boolean;
}

type PendingContext = Pick<AppContext, 'config' | 'storage' | 'secrets' | 'clock' | 'random'>;

/** The handle for pages to carry: the id of a stored request, otherwise the request sealed. */
export async function requestHandle(ctx: PendingContext, request: AuthorizationRequestRecord, stored: boolean): Promise<string> {
  return stored ? request.id : sealRequest(ctx, request);
}

/** The pending request a handle names, or null when it is unknown, altered or expired. Changes nothing. */
export async function openPendingRequest(ctx: PendingContext, handle: string | null | undefined): Promise<PendingRequest | null> {
  if (isRequestId(handle)) {
    const request = await ctx.storage.authorizationRequests.get(handle, ctx.clock.now());
    return request && { request, handle, stored: true };
  }
  const request = typeof handle === 'string' ? await openSealedRequest(ctx, handle) : null;
  return request && { request, handle: handle!, stored: false };
}

/** For a decision: a stored request is taken atomically (decided once); a sealed one is only opened. */
export async function takePendingRequest(ctx: PendingContext, handle: string): Promise<AuthorizationRequestRecord | null> {
  if (isRequestId(handle)) return ctx.storage.authorizationRequests.take(handle, ctx.clock.now());
  return openSealedRequest(ctx, handle);
}
