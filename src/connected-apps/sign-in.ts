import type { Context, Hono } from 'hono';
import type { StytchAuthorizationPage } from '../config/stytch-authorization-page.ts';
import type { AppContext } from '../context.ts';
import type { SignedIn } from '../identity/login-sessions.ts';
import type { StytchIdp } from './stytch-idp.ts';

/** What the page's sign-in steps share. */
export interface PageContext {
  ctx: AppContext;
  settings: StytchAuthorizationPage;
  idp: StytchIdp;
  /** Guards a route with the page's per-address limit: the 429 page, or null to go on. */
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
