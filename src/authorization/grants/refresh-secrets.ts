import type { KeyObject } from 'node:crypto';
import type { AppContext } from '../../context.ts';
import { hmac, opaqueToken, safeEqual } from '../../util/crypto.ts';

/** Kind prefix of refresh tokens (see `opaqueToken`). */
export const REFRESH_TOKEN_PREFIX = 'pcr_';

/**
 * A refresh token is `pcr_<grant id>.<family tag>.<secret>`. The tag is HMAC(server key, grant id),
 * so it proves the token was issued for that grant, by us. Why it is there (HARD-8): a grant keeps
 * only its live token and the one it replaced, so an older spent token is no longer in storage; when
 * one comes back, the tag still names its grant, and presenting it is reuse (OAuth 2.1 §4.3.1): the
 * grant is revoked. Only the token's hash is stored; the tag alone lets nobody refresh anything.
 */
export interface RefreshFamily {
  grantId: string;
}

/** A fresh refresh token for a new grant: 256 random bits after the grant's family. Only its hash is stored. */
export async function newRefreshToken(ctx: AppContext, grantId: string): Promise<string> {
  return (await familyPrefix(ctx, grantId)) + opaqueToken('', ctx.random);
}

/**
 * The token that replaces `presented` on rotation: the same family, and as secret HMAC(server key,
 * presented). Because it is deterministic, a retry of the same token within the grace period (SEC-38)
 * is answered with the same successor although only hashes are stored; because the key is secret,
 * nobody holding only a token can compute its successor. Tokens issued before families existed get one
 * here, from the grant their hash was found in.
 */
export async function successorOf(ctx: AppContext, presented: string, grantId: string): Promise<string> {
  return (await familyPrefix(ctx, grantId)) + hmac(await successorKey(ctx), presented);
}

/** The family a token claims, if its tag is genuine; null for anything else (a guess, a legacy token). */
export async function familyOf(ctx: AppContext, presented: string): Promise<RefreshFamily | null> {
  if (!presented.startsWith(REFRESH_TOKEN_PREFIX)) return null;
  const parts = presented.slice(REFRESH_TOKEN_PREFIX.length).split('.');
  if (parts.length !== 3) return null;
  const [grantId, tag] = parts as [string, string, string];
  if (!grantId || !safeEqual(tag, await familyTag(ctx, grantId))) return null;
  return { grantId };
}

async function familyPrefix(ctx: AppContext, grantId: string): Promise<string> {
  return `${REFRESH_TOKEN_PREFIX}${grantId}.${await familyTag(ctx, grantId)}.`;
}

/** 128 bits of HMAC: unforgeable without the server key, short enough for a token. */
async function familyTag(ctx: AppContext, grantId: string): Promise<string> {
  return hmac(await successorKey(ctx), 'refresh-family:' + grantId).slice(0, 22);
}

/** An idle refresh token expires after `refreshTokenIdleTtl`, and never after its grant (SEC-37). */
export function refreshTokenExpiry(ctx: AppContext, now: number, grantExpiresAt: number): number {
  return Math.min(now + ctx.config.refreshTokenIdleTtl * 1000, grantExpiresAt);
}

/** One key per database, shared by every instance, read and imported once (src/keys/server-secrets.ts): two HMACs per refresh use it. */
const successorKey = (ctx: AppContext): Promise<KeyObject> => ctx.secrets.refreshSuccessorKey();
