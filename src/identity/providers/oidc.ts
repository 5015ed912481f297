import * as oauth from 'oauth4webapi';
import type { IdentityProviderSettings } from '../../config/identity-provider.ts';
import type { UpstreamTransactionRecord } from '../../storage/types.ts';
import { base64url, pkceS256 } from '../../util/crypto.ts';
import { UpstreamLoginError, type UpstreamEnv, type UpstreamIdentity, type UpstreamIdentityProvider, type UpstreamStart } from './types.ts';

type OidcSettings = NonNullable<IdentityProviderSettings['oidc']>;

/** Discovery documents change rarely; re-read hourly so a provider's endpoint move is picked up. */
const METADATA_TTL_MS = 60 * 60_000;
/** No login waits longer than this on the provider. */
const REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_SCOPES = ['openid', 'email', 'profile'];
/** A provider's groups claim is bounded before it is stored: at most this many, each at most this long. */
const MAX_GROUPS = 200;
const MAX_GROUP_LENGTH = 200;

/**
 * An OpenID Connect provider as the login step (MCP UP-03), as a relying party built on
 * `oauth4webapi` rather than by hand:
 *
 * - endpoints from discovery, whose `issuer` must equal the configured one (OIDC Discovery §4.3);
 * - authorization code flow with PKCE S256, a `state` (our transaction handle) and a `nonce`, to an
 *   exact, fixed redirect URI (`<issuer>/callback`);
 * - the callback's `iss` (RFC 9207) checked when the provider sends it, the ID token validated per
 *   OIDC Core §3.1.3.7: signature by a key of the provider's JWKS, `iss`, `aud`/`azp` = our client id,
 *   `exp`/`iat` against our (injected) clock, and the `nonce` of this transaction;
 * - userinfo (subject-checked) only when the ID token has no verified e-mail to name a new user by.
 *
 * The provider's access, refresh and ID tokens are dropped once the user is identified.
 */
export class OidcIdentityProvider implements UpstreamIdentityProvider {
  readonly kind = 'oidc' as const;
  readonly displayName: string;
  readonly #settings: OidcSettings & { issuer: string; clientId: string };
  readonly #scopes: string[];
  readonly #groupsClaim: string | false;
  #metadata: { server: oauth.AuthorizationServer; fetchedAt: number } | null = null;

  /** `groupsClaim`: the ID token claim holding the person's groups (tool policy); `false`: none read. */
  constructor(settings: OidcSettings, displayName?: string, groupsClaim: string | false = false) {
    this.#groupsClaim = groupsClaim;
    if (!settings.issuer || !settings.clientId) throw new Error('oidc identity provider needs an issuer and a client id');
    this.#settings = { ...settings, issuer: settings.issuer, clientId: settings.clientId };
    this.#scopes = settings.scopes ?? DEFAULT_SCOPES;
    this.displayName = displayName ?? new URL(settings.issuer).host;
  }

  async start(state: string, callbackUrl: string, env: UpstreamEnv, options: { forceLogin?: boolean } = {}): Promise<UpstreamStart> {
    const server = await this.#server(env);
    const codeVerifier = base64url(env.random(32));
    const nonce = base64url(env.random(32));
    const url = new URL(server.authorization_endpoint!);
    const params = {
      client_id: this.#settings.clientId,
      redirect_uri: callbackUrl,
      response_type: 'code',
      scope: this.#scopes.join(' '),
      state,
      nonce,
      code_challenge: pkceS256(codeVerifier),
      code_challenge_method: 'S256',
      // OIDC Core §3.1.2.1: the client asked us for a fresh sign-in, so we ask the provider for one.
      ...(options.forceLogin ? { prompt: 'login' } : {}),
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return { url: url.href, codeVerifier, nonce };
  }

  stateOf(callback: URL): string | null {
    return callback.searchParams.get('state');
  }

  async finish(callback: URL, callbackUrl: string, tx: UpstreamTransactionRecord, env: UpstreamEnv): Promise<UpstreamIdentity> {
    if (!tx.codeVerifier || !tx.nonce) throw new UpstreamLoginError('invalid_response', 'transaction has no PKCE verifier or nonce');
    const server = await this.#server(env);
    const client = this.#client(env);
    const http = this.#http(env);
    try {
      // state was matched by the transaction lookup; this checks `iss` (mix-up defence) and `error`.
      const params = oauth.validateAuthResponse(server, client, callback, this.stateOf(callback) ?? oauth.expectNoState);
      const response = await oauth.authorizationCodeGrantRequest(server, client, this.#clientAuth(), params, callbackUrl, tx.codeVerifier, http);
      const tokens = await oauth.processAuthorizationCodeResponse(server, client, response, { expectedNonce: tx.nonce, requireIdToken: true });
      // The ID token came over TLS from the token endpoint, but UP-03 asks for its signature too.
      await oauth.validateApplicationLevelSignature(server, response, http);
      const claims = oauth.getValidatedIdTokenClaims(tokens)!;
      let email = verifiedEmail(claims);
      if (email === null && server.userinfo_endpoint) {
        const info = await oauth.processUserInfoResponse(server, client, claims.sub, await oauth.userInfoRequest(server, client, tokens.access_token, http));
        email = verifiedEmail(info);
      }
      const groups = this.#groupsClaim === false ? undefined : groupsOf(claims[this.#groupsClaim]);
      return { provider: 'oidc', issuer: claims.iss, subject: claims.sub, email, ...(groups ? { groups } : {}) };
    } catch (error) {
      throw asUpstreamError(error);
    }
  }

  /** The provider's metadata: from the settings when all endpoints are given, else discovery (cached). */
  async #server(env: UpstreamEnv): Promise<oauth.AuthorizationServer> {
    const s = this.#settings;
    if (s.authorizationEndpoint && s.tokenEndpoint && s.jwksUri) {
      return (this.#metadata ??= {
        server: { issuer: s.issuer, authorization_endpoint: s.authorizationEndpoint, token_endpoint: s.tokenEndpoint, jwks_uri: s.jwksUri, ...(s.userinfoEndpoint ? { userinfo_endpoint: s.userinfoEndpoint } : {}) },
        fetchedAt: env.clock.now(),
      }).server;
    }
    const now = env.clock.now();
    if (this.#metadata && now - this.#metadata.fetchedAt < METADATA_TTL_MS) return this.#metadata.server;
    const issuer = new URL(s.issuer);
    let server: oauth.AuthorizationServer;
    try {
      const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...this.#http(env) });
      // Throws unless the document's issuer is exactly the configured one (OIDC Discovery §4.3).
      server = await oauth.processDiscoveryResponse(issuer, response);
    } catch (error) {
      throw new UpstreamLoginError('unavailable', `discovery at ${s.issuer} failed: ${describe(error)}`);
    }
    if (!server.authorization_endpoint || !server.token_endpoint || !server.jwks_uri) {
      throw new UpstreamLoginError('unavailable', `discovery at ${s.issuer} lacks an authorization, token or jwks endpoint`);
    }
    this.#metadata = { server, fetchedAt: now };
    return server;
  }

  #client(env: UpstreamEnv): oauth.Client {
    // oauth4webapi reads Date.now(); the skew makes its exp/iat checks use the injected clock.
    return { client_id: this.#settings.clientId, [oauth.clockSkew]: Math.round((env.clock.now() - Date.now()) / 1000) };
  }

  #clientAuth(): oauth.ClientAuth {
    const { clientSecret, tokenEndpointAuthMethod } = this.#settings;
    if (!clientSecret || tokenEndpointAuthMethod === 'none') return oauth.None();
    return tokenEndpointAuthMethod === 'client_secret_post' ? oauth.ClientSecretPost(clientSecret) : oauth.ClientSecretBasic(clientSecret);
  }

  #http(env: UpstreamEnv) {
    return {
      [oauth.customFetch]: (url: string, init: RequestInit) => env.fetch(url, init),
      // Plain http was allowed by the config check only for a loopback provider (or by the dangerous flag).
      [oauth.allowInsecureRequests]: new URL(this.#settings.issuer).protocol === 'http:',
      signal: () => AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    };
  }
}

/** A groups claim (an array of strings, or a space-separated string), bounded; undefined when there is none. */
function groupsOf(value: unknown): string[] | undefined {
  const list = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : undefined;
  if (!list) return undefined;
  const groups = list.filter((g): g is string => typeof g === 'string' && g.length > 0 && g.length <= MAX_GROUP_LENGTH);
  return [...new Set(groups)].slice(0, MAX_GROUPS);
}

function verifiedEmail(claims: Record<string, unknown>): string | null {
  return claims.email_verified === true && typeof claims.email === 'string' && claims.email.length <= 254 ? claims.email : null;
}

/**
 * oauth4webapi's errors → our reasons. Only the library's message and the provider's error code go
 * to the log: their `cause` can hold the token response or ID token claims.
 */
function asUpstreamError(error: unknown): UpstreamLoginError {
  if (error instanceof UpstreamLoginError) return error;
  if (error instanceof oauth.AuthorizationResponseError) return new UpstreamLoginError('upstream_error', `authorization response error=${error.error}`);
  if (error instanceof oauth.ResponseBodyError) {
    return new UpstreamLoginError(error.status >= 500 ? 'unavailable' : 'upstream_error', `token endpoint ${error.status} error=${error.error}`);
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) return new UpstreamLoginError('upstream_error', `token endpoint challenge ${error.status}`);
  if (error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError) {
    return new UpstreamLoginError('invalid_response', `${error.code ?? 'error'}: ${error.message}`);
  }
  return new UpstreamLoginError('unavailable', describe(error));
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return 'unknown error';
}
