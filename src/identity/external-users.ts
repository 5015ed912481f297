import type { AppContext } from '../context.ts';
import type { Storage, UserRecord } from '../storage/types.ts';
import { randomId, type RandomBytes } from '../util/crypto.ts';
import { DUMMY_PASSWORD_HASH } from './passwords.ts';
import type { UpstreamIdentity } from './providers/types.ts';
import { USERNAME } from './users.ts';

/**
 * The local user an upstream identity signs in as: the one linked to its (provider, issuer, subject),
 * or a new one linked now (MCP UP-06). Never found by e-mail: an address can be reassigned or, at
 * some providers, be unverified, and matching on it would hand one person's account to another.
 *
 * A new user is named after the verified e-mail address when that name is free (it is only a label
 * on the pages), and has no password: the dummy hash matches nothing anyone can type, at the cost
 * of a real check, so `local` login cannot tell such accounts apart by timing.
 */
export async function userForUpstreamIdentity(
  ctx: Pick<AppContext, 'storage' | 'clock' | 'random'>,
  identity: UpstreamIdentity,
): Promise<{ user: UserRecord; created: boolean }> {
  const now = ctx.clock.now();
  const newUser: UserRecord = {
    id: 'usr_' + randomId(ctx.random),
    username: await freeUsername(ctx.storage, identity, ctx.random),
    passwordHash: DUMMY_PASSWORD_HASH,
    isAdmin: false,
    createdAt: now,
  };
  return ctx.storage.externalIdentities.resolve({ provider: identity.provider, issuer: identity.issuer, subject: identity.subject }, newUser, now);
}

async function freeUsername(storage: Storage, identity: UpstreamIdentity, random: RandomBytes): Promise<string> {
  const email = identity.email?.trim().toLowerCase();
  if (email && USERNAME.test(email) && !(await storage.users.byUsername(email))) return email;
  const base = (email?.split('@')[0] ?? identity.provider).replace(/[^a-z0-9._+-]/g, '').slice(0, 40) || identity.provider;
  // 40 random bits: a collision is unlikely, and would only fail this one login (the name is unique).
  return `${base}-${Buffer.from(random(5)).toString('hex')}`;
}
