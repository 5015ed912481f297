import { createLocalJWKSet, errors, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ACCESS_TOKEN_TYP } from '../authorization/access-token.ts';
import type { AppContext } from '../context.ts';
import { parseScope } from './scopes.ts';
import { VerifiedTokenCache } from './token-cache.ts';
import type { TokenVerifier, VerifiedToken, VerifyResult } from './types.ts';
import { rejectionFromJoseError } from './verifiers/jwt-errors.ts';

/** An unknown `kid` reloads keys from storage at most this often (another instance may have rotated). */
const KEY_RELOAD_INTERVAL_MS = 30_000;

type VerifierContext = Pick<AppContext, 'config' | 'capabilities' | 'keys' | 'grants' | 'clock'>;

export interface LocalTokenVerifierOptions {
  /**
   * Which `aud` values to accept. `'this resource'` (the default) is what a resource server must do:
   * only tokens for its own MCP endpoint (RS-08/RS-18). `'every issued resource'` adds the other
   * servers in `config.resources`, for the authorization server's own /revoke and /introspect, which
   * must recognise every access token it issued (RFC 7009 §2.1, RFC 7662 §2.1) but grant no access.
   */
  audience?: 'this resource' | 'every issued resource';
  cache?: VerifiedTokenCache<CachedVerification>;
}

/**
 * What the cache keeps per token: the answer `verify` gives, built once (returned as it is on every
 * hit, so a request allocates nothing here), and the grant whose liveness is checked each time.
 */
export interface CachedVerification {
  readonly result: Readonly<Extract<VerifyResult, { ok: true }>>;
  readonly grantId: string;
}

const GRANT_NOT_LIVE: VerifyResult = Object.freeze({ ok: false, reason: 'grant_not_live' });

/**
 * Verifies the JWT access tokens this server issues (RFC 9068 §4): signature by a key in our JWKS
 * with an allowed algorithm, `typ: at+jwt`, `iss` = our issuer, `aud` containing this resource
 * (RFC 8707, MCP RS-08/RS-18; see `LocalTokenVerifierOptions.audience`), `exp` present and in the
 * future, and the grant (`gid`) still live, so revocation takes effect before the token expires.
 *
 * Signature and claims are cached per token (keyed by its hash); the grant check runs on every call.
 */
export class LocalTokenVerifier implements TokenVerifier {
  #ctx: VerifierContext;
  #cache: VerifiedTokenCache<CachedVerification>;
  #jwksSource: { keys: JWK[] } | undefined;
  #keySet: JWTVerifyGetKey | undefined;
  #lastReload = Number.NEGATIVE_INFINITY;
  #audiences: string[];

  constructor(ctx: VerifierContext, options: LocalTokenVerifierOptions = {}) {
    this.#ctx = ctx;
    this.#cache = options.cache ?? new VerifiedTokenCache<CachedVerification>(ctx.clock);
    // The `aud` of a token for another server is that server's URL exactly as configured (grants
    // record the configured spelling), so exact matching against the list is enough.
    this.#audiences = options.audience === 'every issued resource' ? [ctx.config.resource, ...ctx.config.resources] : [ctx.config.resource];
  }

  async verify(token: string): Promise<VerifyResult> {
    let cached = this.#cache.get(token);
    if (!cached) {
      const outcome = await this.#verifySignatureAndClaims(token);
      if (!outcome.ok) return outcome;
      const { grantId, ...verified } = outcome.token;
      // Frozen: the same objects answer every request with this token.
      cached = { result: Object.freeze({ ok: true, token: Object.freeze(verified) }), grantId };
      this.#cache.set(token, cached, verified.expiresAt * 1000);
    }
    // Revocation: the grant is checked on every request; a cached answer needs no await (bench/README.md).
    const live = this.#ctx.grants.cachedLiveness(cached.grantId) ?? (await this.#ctx.grants.isLive(cached.grantId));
    return live ? cached.result : GRANT_NOT_LIVE;
  }

  /** The key set follows the key store: rebuilt whenever it publishes a different JWKS. */
  #currentKeySet(): JWTVerifyGetKey {
    const jwks = this.#ctx.keys.jwks();
    if (jwks !== this.#jwksSource || !this.#keySet) {
      this.#jwksSource = jwks;
      this.#keySet = createLocalJWKSet(jwks);
    }
    return this.#keySet;
  }

  async #verifySignatureAndClaims(token: string): Promise<{ ok: true; token: VerifiedToken & { grantId: string } } | Extract<VerifyResult, { ok: false }>> {
    let payload: JWTPayload;
    try {
      payload = await this.#jwtVerify(token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey && this.#ctx.clock.now() - this.#lastReload >= KEY_RELOAD_INTERVAL_MS) {
        this.#lastReload = this.#ctx.clock.now();
        await this.#ctx.keys.reload();
        try {
          payload = await this.#jwtVerify(token);
        } catch (retryError) {
          return rejectionFromJoseError(retryError);
        }
      } else {
        return rejectionFromJoseError(error);
      }
    }
    const { sub, client_id: clientId, gid, exp } = payload;
    // Non-empty, as every verifier requires (./verifiers/claims.ts): the empty owner is the anonymous one (src/mcp/session-table.ts).
    if (typeof sub !== 'string' || sub === '' || typeof clientId !== 'string' || clientId === '' || typeof gid !== 'string' || typeof exp !== 'number') {
      return { ok: false, reason: 'missing_claim', detail: 'sub and client_id must be non-empty strings, gid a string' };
    }
    return { ok: true, token: { subject: sub, clientId, scopes: parseScope(payload.scope), expiresAt: exp, claims: payload, grantId: gid } };
  }

  #jwtVerify(token: string): Promise<JWTPayload> {
    const { config, capabilities, clock } = this.#ctx;
    return jwtVerify(token, this.#currentKeySet(), {
      algorithms: [...capabilities.signingAlgorithms],
      typ: ACCESS_TOKEN_TYP,
      issuer: config.issuer,
      audience: this.#audiences,
      requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti', 'gid'],
      currentDate: new Date(clock.now()),
    }).then((r) => r.payload);
  }
}
