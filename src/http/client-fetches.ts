import { OAuthError } from '../errors/oauth-error.ts';
import type { AppContext } from '../context.ts';
import { ExpiringCache } from './expiring-cache.ts';
import { cacheLifetimeMs } from './http-cache-lifetime.ts';
import { safeFetchJson, SafeFetchError, type SafeFetchOptions, type SafeFetchResult } from './safe-fetch.ts';

/**
 * The one policy for every URL this server fetches on a client's behalf: client ID metadata
 * documents and a `private_key_jwt` client's `jwks_uri` (MCP AS-13, AS-14, SEC-29, SEC-51; CIMD §6).
 * Anyone can name such a URL (a fresh CIMD `client_id`, or a junk assertion naming a client), so
 * without these rules every request could make us send one to a third party's host:
 *
 * - single flight: concurrent callers for one URL share one fetch;
 * - a good answer is reused as long as its HTTP caching headers say, within 1 minute and 24 hours;
 * - a failure (unreachable, HTTP error, not JSON, or a document its kind refuses) is remembered for
 *   `failureHoldMs` and given to every caller meanwhile, without a request; after that the URL is
 *   tried again. It is never kept as the client's metadata: it only delays the next attempt (the CIMD
 *   draft lets a server use error responses to inform its security policies);
 * - `refresh` (a key id we do not have: the client may have rotated its keys) fetches again at most
 *   once per `refetchCooldownMs`;
 * - at most `maxInFlight` fetches at once across all URLs, and `maxInFlightPerHost` to one host (so one
 *   slow host cannot hold every slot); beyond that a caller is refused at once with
 *   `503 temporarily_unavailable` and `Retry-After`, nothing waits in a queue;
 * - at most `maxEntries` answers and failures kept (the oldest go first).
 *
 * Staleness: this state is a per-process cache, never shared by instances. A document or key set
 * changed at its URL is seen here at most its cache lifetime later (default 5 minutes, never more
 * than 24 hours), a key the client rotated in at most `refetchCooldownMs` later, and a URL that
 * failed is retried at most `failureHoldMs` later. N instances fetch one URL at most N times as often.
 *
 * The operator's own URLs (enterprise IdP JWKS, upstream identity providers, a resource server's
 * authorization server) are not fetched on a client's behalf and do not go through here.
 */
export interface ClientFetchPolicy {
  maxInFlight: number;
  maxInFlightPerHost: number;
  maxEntries: number;
  failureHoldMs: number;
  refetchCooldownMs: number;
}

export const CLIENT_FETCH_POLICY: Readonly<ClientFetchPolicy> = {
  maxInFlight: 16,
  maxInFlightPerHost: 2,
  maxEntries: 1000,
  failureHoldMs: 30_000,
  refetchCooldownMs: 30_000,
};

/** What is fetched: its limits, and how a fetched JSON value becomes what callers use. */
export interface ClientFetchKind<T> {
  /** For logs and the busy message, e.g. `client metadata document`. */
  readonly name: string;
  /** For the busy message: `metadata documents`. */
  readonly plural: string;
  readonly limits: SafeFetchOptions;
  /** Throws when the document is unusable; the error is kept and rethrown like a failed fetch. */
  parse(fetched: SafeFetchResult, ctx: ClientFetchContext): T;
}

/** The app's context without this service itself, which is built from it (src/portcullis.ts). */
export type ClientFetchContext = Omit<AppContext, 'clientFetches' | 'dpop'>;

type Outcome = { ok: true; value: unknown; fetchedAt: number; expiresAt: number } | { ok: false; error: unknown; fetchedAt: number };

export class ClientFetches {
  readonly #ctx: ClientFetchContext;
  readonly #policy: ClientFetchPolicy;
  readonly #outcomes: ExpiringCache<Outcome>;
  readonly #inFlight = new Map<string, Promise<unknown>>();
  readonly #inFlightByHost = new Map<string, number>();

  constructor(ctx: ClientFetchContext, policy: Partial<ClientFetchPolicy> = {}) {
    this.#ctx = ctx;
    this.#policy = { ...CLIENT_FETCH_POLICY, ...policy };
    this.#outcomes = new ExpiringCache(this.#policy.maxEntries);
  }

  /** The parsed document at `url`: cached, shared with a fetch under way, or fetched now. */
  async get<T>(kind: ClientFetchKind<T>, url: string): Promise<T> {
    const key = keyOf(kind, url);
    const known = this.#outcomes.get(key, this.#ctx.clock.now());
    if (known) return settle<T>(known);
    return this.#fetchOnce(kind, url, key);
  }

  /**
   * Like `get`, for a caller that found the cached value lacking (an unknown `kid`): fetches again
   * unless the last attempt was within the cooldown. When that fetch fails, the value it had stays.
   */
  async refresh<T>(kind: ClientFetchKind<T>, url: string): Promise<T> {
    const key = keyOf(kind, url);
    const now = this.#ctx.clock.now();
    const known = this.#outcomes.get(key, now);
    if (known && now - known.fetchedAt < this.#policy.refetchCooldownMs) return settle<T>(known);
    try {
      return await this.#fetchOnce(kind, url, key);
    } catch (error) {
      if (known?.ok) return known.value as T;
      throw error;
    }
  }

  /** Fetches being made now, for tests and diagnostics. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  #fetchOnce<T>(kind: ClientFetchKind<T>, url: string, key: string): Promise<T> {
    const pending = this.#inFlight.get(key);
    if (pending) return pending as Promise<T>;
    const host = hostOf(url);
    const onHost = this.#inFlightByHost.get(host) ?? 0;
    if (this.#inFlight.size >= this.#policy.maxInFlight || onHost >= this.#policy.maxInFlightPerHost) throw this.#busy(kind, url);
    this.#inFlightByHost.set(host, onHost + 1);
    const fetching = this.#fetch(kind, url, key).finally(() => {
      this.#inFlight.delete(key);
      const left = (this.#inFlightByHost.get(host) ?? 1) - 1;
      if (left > 0) this.#inFlightByHost.set(host, left);
      else this.#inFlightByHost.delete(host);
    });
    this.#inFlight.set(key, fetching);
    return fetching;
  }

  async #fetch<T>(kind: ClientFetchKind<T>, url: string, key: string): Promise<T> {
    const previous = this.#outcomes.get(key, this.#ctx.clock.now());
    try {
      const fetched = await safeFetchJson(this.#ctx, url, kind.limits);
      const value = kind.parse(fetched, this.#ctx);
      const now = this.#ctx.clock.now();
      const lifetime = cacheLifetimeMs(fetched.headers, now);
      this.#outcomes.set(key, { ok: true, value, fetchedAt: now, expiresAt: now + lifetime }, lifetime, now);
      this.#ctx.logger.info(`${kind.name} fetched`, { url: url.slice(0, 200) });
      return value;
    } catch (error) {
      const now = this.#ctx.clock.now();
      if (previous?.ok && previous.expiresAt > now) {
        // A failed refresh: keep what we had until it expires, and wait the cooldown before trying again.
        this.#outcomes.set(key, { ...previous, fetchedAt: now }, previous.expiresAt - now, now);
      } else {
        this.#outcomes.set(key, { ok: false, error, fetchedAt: now }, this.#policy.failureHoldMs, now);
      }
      this.#ctx.logger.warn(`${kind.name} fetch failed`, { url: url.slice(0, 200), reason: reasonOf(error) });
      throw error;
    }
  }

  #busy(kind: ClientFetchKind<unknown>, url: string): OAuthError {
    this.#ctx.logger.warn(`${kind.name} fetch refused: too many in flight`, { url: url.slice(0, 200), in_flight: this.#inFlight.size });
    return new OAuthError('temporarily_unavailable', `This server is busy fetching other applications' ${kind.plural}. Try again in a moment.`, {
      status: 503,
      headers: { 'Retry-After': '5' },
      detail: `${this.#inFlight.size} client URLs already being fetched`,
    });
  }
}

const keyOf = (kind: ClientFetchKind<unknown>, url: string): string => `${kind.name} ${url}`;

/** The host a URL names (an unparsable one counts as its own host: safeFetchJson refuses it anyway). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function settle<T>(outcome: Outcome): T {
  if (outcome.ok) return outcome.value as T;
  throw outcome.error;
}

function reasonOf(error: unknown): string {
  if (error instanceof SafeFetchError) return error.reason;
  if (error instanceof OAuthError) return error.detail ?? error.description;
  return (error as Error).message;
}
