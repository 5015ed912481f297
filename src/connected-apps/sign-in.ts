import type { Context, Hono } from 'hono';
import type { StytchAuthorizationPage } from '../config/stytch-authorization-page.ts';
import type { AppContext } from '../context.ts';
import { currentLoginSession, type SignedIn } from '../identity/login-sessions.ts';
import type { UserRecord } from '../storage/types.ts';
import type { StytchIdp } from './stytch-idp.ts';

/** What the page's sign-in steps share. */
export interface PageContext {
  ctx: AppContext;
  settings: StytchAuthorizationPage;
  idp: StytchIdp;
  /** A 429 page when the address is over its limit (counted in the store, shared by instances). */
  limited(c: Context): Promise<Response | null>;
}

/**
 * How a person signs in before consenting: Stytch's OAuth login (`stytch-sign-in.ts`) or a
 * Portcullis account attested to Stytch (`local-sign-in.ts`). Either way the browser ends up with a
 * Portcullis login session, and `user` names the Stytch user it is.
 */
export interface SignIn {
  /** The browser's session and its Stytch user id, or null when it must sign in first. */
  user(request: Request): Promise<{ signedIn: SignedIn; userId: string } | null>;
  /** Sends the browser to sign in; afterwards it comes back to `<path>?<query>`. */
  start(request: Request, query: string): Promise<Response>;
  /** The routes of the sign-in step itself (a callback, a login form). */
  mount(app: Hono): void;
}

/** `SignIn.user` for every way in: the browser's login session and its Stytch user as `stytchUserOf` names it (null: sign in again). */
export function sessionStytchUser(ctx: AppContext, stytchUserOf: (user: UserRecord) => Promise<string | null>): SignIn['user'] {
  return async (request) => {
    const signedIn = await currentLoginSession(ctx, request);
    if (!signedIn) return null;
    const userId = await stytchUserOf(signedIn.user);
    return userId === null ? null : { signedIn, userId };
  };
}
