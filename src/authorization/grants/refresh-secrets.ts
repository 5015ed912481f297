import type { AppContext } from '../../http/context.ts';
import type { Storage } from '../../storage/types.ts';
import { base64url, hmac, opaqueToken } from '../../util/crypto.ts';

/** Kind prefix of refresh tokens (see `opaqueToken`). */
export const REFRESH_TOKEN_PREFIX = 'pcr_';
const SUCCESSOR_KEY_SETTING = 'refresh-successor-key';

/** A fresh refresh token for a new grant: 256 random bits. Only its hash is stored. */
export function newRefreshToken(ctx: AppContext): string {
  return opaqueToken(REFRESH_TOKEN_PREFIX, ctx.random);
}

/**
 * The token that replaces `presented` on rotation, derived as HMAC(server key, presented). Because it
 * is deterministic, a retry of the same token within the grace period (SEC-38) is answered with the
 * same successor although only hashes are stored; because the key is secret, nobody holding only a
 * token can compute its successor.
 */
export async function successorOf(ctx: AppContext, presented: string): Promise<string> {
  return REFRESH_TOKEN_PREFIX + hmac(await successorKey(ctx), presented);
}

/** An idle refresh token expires after `refreshTokenIdleTtl`, and never after its grant (SEC-37). */
export function refreshTokenExpiry(ctx: AppContext, now: number, grantExpiresAt: number): number {
  return Math.min(now + ctx.config.refreshTokenIdleTtl * 1000, grantExpiresAt);
}

/** One key per database, shared by every instance: the first to start stores it, the others read it. */
const keys = new WeakMap<Storage, Promise<string>>();

function successorKey(ctx: AppContext): Promise<string> {
  let key = keys.get(ctx.storage);
  if (!key) {
    key = ctx.storage.settings.putIfAbsent(SUCCESSOR_KEY_SETTING, base64url(ctx.random(32)));
    // A failed read is retried on the next request rather than cached.
    key.catch(() => keys.delete(ctx.storage));
    keys.set(ctx.storage, key);
  }
  return key;
}
