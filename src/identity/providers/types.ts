import type { UpstreamTransactionRecord } from '../../storage/types.ts';
import type { Clock } from '../../util/clock.ts';
import type { RandomBytes } from '../../util/crypto.ts';

/**
 * Who signs the user in at the login step. Whatever the provider, MCP clients only ever receive
 * Portcullis's own codes and tokens (MCP UP-04): an upstream provider tells us who the user is, and
 * its tokens are used for that and then dropped.
 */
export type IdentityProvider = LocalIdentityProvider | UpstreamIdentityProvider;

/** Accounts kept by Portcullis itself: the login page asks for a username and password. */
export interface LocalIdentityProvider {
  readonly kind: 'local';
}

/** Injected so tests control time, randomness and the network. */
export interface UpstreamEnv {
  fetch: typeof fetch;
  clock: Clock;
  random: RandomBytes;
}

/** What an upstream login proved: the key the local user is linked by, and naming hints. */
export interface UpstreamIdentity {
  /** `id-jag`: the subject of an enterprise IdP's ID-JAG (enterprise-managed authorization). */
  provider: UpstreamIdentityProvider['kind'] | 'id-jag';
  /** The issuer that vouches for `subject`: an OIDC issuer URL, or `stytch.com/<project id>`. */
  issuer: string;
  subject: string;
  /** A verified e-mail address. Only ever used to name a new local user, never to find one (UP-06). */
  email: string | null;
  /**
   * The person's groups, from the provider's groups claim (`toolPolicy.groupsClaim`) when its ID
   * token has one: they replace the local user's groups at each login. Absent: left as they are.
   */
  groups?: string[];
}

/** Where to send the browser, and the per-login secrets the callback needs back. */
export interface UpstreamStart {
  url: string;
  codeVerifier: string | null;
  nonce: string | null;
}

/**
 * A provider the user is sent to: build the redirect for one login transaction, then check what
 * comes back to our callback. `state` is the transaction's random handle: it travels through the
 * provider (as OIDC `state`, or inside Stytch's redirect URL) and brings us back to the transaction.
 */
export interface UpstreamIdentityProvider {
  readonly kind: 'oidc' | 'stytch';
  /** What the user signs in with, for the pages: "Google", "auth.example.com". */
  readonly displayName: string;
  /** `forceLogin`: the MCP client sent prompt=login, so the provider should not reuse its own session. */
  start(state: string, callbackUrl: string, env: UpstreamEnv, options?: { forceLogin?: boolean }): Promise<UpstreamStart>;
  /** The transaction handle a callback URL carries, or null when it carries none. */
  stateOf(callback: URL): string | null;
  /** Verifies the callback for this transaction and returns the identity; throws UpstreamLoginError. */
  finish(callback: URL, callbackUrl: string, transaction: UpstreamTransactionRecord, env: UpstreamEnv): Promise<UpstreamIdentity>;
}

export type UpstreamFailure =
  /** The provider answered with an error (the user cancelled, the provider refused). */
  | 'upstream_error'
  /** The callback or the provider's response failed a check (ID token, nonce, PKCE, issuer…). */
  | 'invalid_response'
  /** The provider could not be reached or answered with a server error. */
  | 'unavailable';

/**
 * An upstream login that did not succeed. `detail` is for the logs only: the MCP client is told
 * `access_denied` in our own words, never the provider's text.
 */
export class UpstreamLoginError extends Error {
  readonly reason: UpstreamFailure;
  readonly detail: string;
  constructor(reason: UpstreamFailure, detail: string) {
    super(`${reason}: ${detail}`);
    this.name = 'UpstreamLoginError';
    this.reason = reason;
    this.detail = detail;
  }
}

export const isUpstream = (provider: IdentityProvider): provider is UpstreamIdentityProvider => provider.kind !== 'local';
