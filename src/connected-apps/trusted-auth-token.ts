import type { UserRecord } from '../storage/types.ts';
import { randomId } from '../util/crypto.ts';
import type { PageContext } from './sign-in.ts';

/** A Trusted Auth Token is used at once, by Stytch, right after it is made. */
const TOKEN_LIFETIME_S = 60;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The Stytch user of a person signed in here (a Portcullis account, or one linked to an OpenID
 * Connect provider): this server vouches for them with a Trusted Auth Token, a short-lived JWT signed
 * with its own key (published at `/jwks`) naming the user (`sub`, and `email` when the username is
 * one) for the audience `<publicUrl><path>`, which Stytch's `sessions/attest` checks under the
 * Trusted Auth Token profile `profileId` and answers with its user (created on first use by
 * just-in-time provisioning). No Stytch session is created or kept.
 */
export function attestedStytchUser(page: PageContext, profileId: string): (user: UserRecord) => Promise<string> {
  const { ctx, settings } = page;
  return async (user) => {
    const iat = Math.floor(ctx.clock.now() / 1000);
    const token = await ctx.keys.sign(
      {
        iss: ctx.config.issuer,
        aud: `${ctx.config.issuer}${settings.path}`,
        sub: user.id,
        ...(EMAIL.test(user.username) ? { email: user.username } : {}),
        iat,
        exp: iat + TOKEN_LIFETIME_S,
        jti: randomId(ctx.random, 16),
      },
      'JWT',
    );
    return page.idp.attest(profileId, token);
  };
}
