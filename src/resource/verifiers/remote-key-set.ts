import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { systemClock, type Clock } from '../../util/clock.ts';
import { VerifierUnavailableError } from '../types.ts';
import { asObject, fetchJson, type FetchLimits } from './fetch-json.ts';

export interface RemoteKeySetOptions extends FetchLimits {
  fetch?: typeof fetch;
  clock?: Clock;
  /** Keys are refetched when older than this. Default 10 minutes. */
  cacheMaxAgeMs?: number;
  /**
   * After a fetch, an unknown `kid` does not trigger another one for this long (default 30 s): a
   * token naming a made-up key id cannot make us hammer the authorization server.
   */
  cooldownMs?: number;
}

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

/**
 * A JWKS fetched from its URL with an injected `fetch` and clock, cached, and refetched when a token
 * names a key id we do not have (key rotation at the authorization server), at most once per
 * cooldown. What jose's `createRemoteJWKSet` does, with time and I/O injected so tests need no
 * network and no waiting.
 *
 * When a refresh of stale keys fails, the keys we have keep working (the authorization server being
 * briefly down should not lock everyone out); when there are none, `VerifierUnavailableError`.
 */
export class RemoteKeySet {
  readonly #url: () => Promise<string>;
  readonly #fetch: typeof fetch;
  readonly #clock: Clock;
  readonly #limits: FetchLimits;
  readonly #cacheMaxAgeMs: number;
  readonly #cooldownMs: number;
  #local: LocalKeySet | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #pending: Promise<void> | undefined;

  /** `url`: the JWKS URL, or a function resolving it (e.g. from discovered metadata). */
  constructor(url: string | (() => Promise<string>), options: RemoteKeySetOptions = {}) {
    this.#url = typeof url === 'string' ? async () => url : url;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#clock = options.clock ?? systemClock;
    this.#limits = { timeoutMs: options.timeoutMs, maxBytes: options.maxBytes };
    this.#cacheMaxAgeMs = options.cacheMaxAgeMs ?? 10 * 60_000;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
  }

  /** For `jose.jwtVerify`. Only the header's `alg` and `kid` are used; `jku`, `x5u` and `jwk` are ignored. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const now = this.#clock.now();
    if (!this.#local || now - this.#fetchedAt >= this.#cacheMaxAgeMs) await this.#refresh();
    const local = this.#local;
    if (!local) throw new VerifierUnavailableError('no JSON Web Key Set');
    try {
      return await local(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || this.#coolingDown()) throw error;
      await this.#refresh();
      return (this.#local ?? local)(header, token);
    }
  };

  /** Fetched keys, for tests and diagnostics. */
  jwks(): JSONWebKeySet | undefined {
    return this.#local?.jwks();
  }

  #coolingDown(): boolean {
    return this.#clock.now() - this.#attemptedAt < this.#cooldownMs;
  }

  /** One fetch at a time; callers arriving meanwhile wait for it. At most one attempt per cooldown. */
  async #refresh(): Promise<void> {
    if (!this.#pending && this.#coolingDown()) {
      // An attempt was made moments ago (and failed, or the keys are that fresh): keep the keys we
      // have, or fail fast without another request.
      if (this.#local) return;
      throw new VerifierUnavailableError('the JSON Web Key Set could not be fetched; retrying after the cooldown');
    }
    this.#pending ??= this.#load().finally(() => {
      this.#pending = undefined;
    });
    try {
      await this.#pending;
    } catch (error) {
      if (!this.#local) throw error;
    }
  }

  async #load(): Promise<void> {
    this.#attemptedAt = this.#clock.now();
    const url = await this.#url();
    const { status, body } = await fetchJson(this.#fetch, url, {}, this.#limits);
    if (status !== 200) throw new VerifierUnavailableError(`JWKS at ${url} answered ${status}`);
    const keys = asObject(body);
    if (!keys || !Array.isArray(keys['keys'])) throw new VerifierUnavailableError(`JWKS at ${url} is not a JSON Web Key Set`);
    try {
      this.#local = createLocalJWKSet({ keys: keys['keys'] } as JSONWebKeySet);
    } catch (cause) {
      throw new VerifierUnavailableError(`JWKS at ${url} is malformed`, { cause });
    }
    this.#fetchedAt = this.#clock.now();
  }
}
