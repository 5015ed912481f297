import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import { UNKNOWN_ADDRESS } from '../../http/rate-limit.ts';
import type { ClientRecord, TokenEndpointAuthMethod } from '../../storage/types.ts';
import { hashSecret, safeEqual } from '../../util/crypto.ts';
import { recordFailure, retryAfterSeconds, type BackoffPolicy } from '../../util/failure-backoff.ts';
import type { FormParams } from '../form.ts';
import { resolveClient } from './resolve-client.ts';
import { AssertionRejected, CLIENT_ASSERTION_TYPE, unverifiedAssertionSubject, verifyClientAssertion } from './private-key-jwt.ts';

/**
 * Client authentication at the token, revocation and introspection endpoints (OAuth 2.1 §2.4,
 * RFC 6749 §2.3.1, SEC-28): `client_secret_basic`, `client_secret_post`, `private_key_jwt` (RFC 7523
 * §2.2, SEC-29), or `none` for public clients, which only name themselves with `client_id`. A client
 * must use the method it registered, and a request may carry only one method.
 */
export interface AuthenticatedClient {
  client: ClientRecord;
  method: TokenEndpointAuthMethod;
}

export interface AuthenticateOptions {
  /** The methods this endpoint accepts (from `ctx.capabilities`: what is advertised is accepted). */
  methods: readonly string[];
  /** The caller's address as a rate-limit key (`clientAddress(c)`), or `UNKNOWN_ADDRESS`. */
  address?: string;
}

interface Presented {
  method: TokenEndpointAuthMethod;
  clientId: string;
  secret: string | null;
  /** The `client_assertion` of `private_key_jwt`. */
  assertion?: string;
}

/** The one description for every failure, so a caller cannot tell an unknown client from a wrong secret. */
const FAILED = 'Client authentication failed.';
const LOCKED = 'Too many failed client authentications. Try again later.';

const CLIENT_KEY = 'client-auth:client:';
const ADDRESS_KEY = 'client-auth:address:';

export async function authenticateClient(ctx: AppContext, request: Request, form: FormParams, options: AuthenticateOptions): Promise<AuthenticatedClient> {
  const presented = presentedCredentials(ctx, request, form);
  if (!options.methods.includes(presented.method)) throw authenticationFailed(ctx, presented, `${presented.method} is not accepted at this endpoint`);

  // Secrets can be guessed, and each assertion costs a signature check and perhaps a fetch of the
  // client's jwks_uri; public clients (`none`) present nothing to check and are not limited here.
  const limit = presented.method === 'none' ? null : new FailureLimit(ctx, presented, options.address);
  await limit?.assertNotLocked();

  const client = await resolveClient(ctx, presented.clientId);
  const problem = mismatch(client, presented);
  if (problem !== null || !client) {
    await limit?.recordFailure(client !== null);
    throw authenticationFailed(ctx, presented, problem ?? 'unknown client');
  }
  if (presented.assertion !== undefined) {
    // Only after the method matched: the client's keys are fetched for private_key_jwt clients alone.
    try {
      await verifyClientAssertion(ctx, client, presented.assertion);
    } catch (error) {
      if (!(error instanceof AssertionRejected)) throw error;
      await limit?.recordFailure(true);
      throw authenticationFailed(ctx, presented, error.message);
    }
  }
  await limit?.recordSuccess();
  return { client, method: presented.method };
}

/** Why `presented` does not authenticate `client`, or null when it does. */
function mismatch(client: ClientRecord | null, presented: Presented): string | null {
  // Hash even for an unknown client, so both failures cost the same.
  const presentedHash = presented.secret === null ? null : hashSecret(presented.secret);
  if (!client) return 'unknown client';
  if (client.tokenEndpointAuthMethod !== presented.method) return `registered ${client.tokenEndpointAuthMethod}, used ${presented.method}`;
  if (presentedHash !== null && (client.secretHash === null || !safeEqual(presentedHash, client.secretHash))) return 'wrong secret';
  return null;
}

function authenticationFailed(ctx: AppContext, presented: Presented, detail: string): OAuthError {
  return new OAuthError('invalid_client', FAILED, {
    status: 401,
    // RFC 6749 §5.2: a client that tried the Authorization header gets a 401 naming the scheme.
    headers: presented.method === 'client_secret_basic' ? basicChallenge(ctx) : {},
    detail: `client ${printable(presented.clientId)}: ${detail}`,
  });
}

/**
 * SEC-28, HARD-1: failed client authentication backs off on the store's failure counters (the policy
 * shared with logins, `failure-backoff.ts`; shared by instances), per client at an address and per address: five
 * free failures in 15 minutes, then a lock of 1 s, 2 s, 4 s… up to a minute. It covers secrets
 * (guessing) and client assertions (a flood of junk assertions naming a client). While locked, the
 * request is refused before the client is looked up, its secret hashed or its assertion verified:
 * `429 rate_limited` with `Retry-After`. The client's counter is kept per address: anyone can fail on
 * a client's behalf, so a counter of the client alone would let one request a minute from anywhere keep
 * it locked for everyone; per address, a flood locks only the flooding address. (Where no address is
 * known, the client alone is counted.) The cap is low for the same reason. Secrets we issue carry 256
 * bits, so for them this is hygiene more than defence.
 */
export const CLIENT_AUTH_BACKOFF: BackoffPolicy = { windowMs: 15 * 60_000, freeFailures: 5, firstLockMs: 1000, maxLockMs: 60_000 };

class FailureLimit {
  readonly #ctx: AppContext;
  readonly #presented: Presented;
  readonly #clientKey: string;
  readonly #addressKey: string | null;
  #clientHasFailures = false;

  constructor(ctx: AppContext, presented: Presented, address: string | undefined) {
    this.#ctx = ctx;
    this.#presented = presented;
    const known = address !== undefined && address !== UNKNOWN_ADDRESS;
    this.#clientKey = CLIENT_KEY + presented.clientId + (known ? ` from ${address}` : '');
    this.#addressKey = known ? ADDRESS_KEY + address : null;
  }

  async assertNotLocked(): Promise<void> {
    const now = this.#ctx.clock.now();
    // One read for the client's and the address's counters, on every authenticated request.
    const keys = this.#keys();
    const counters = await this.#ctx.storage.failures.getMany(keys, now);
    for (const [i, key] of keys.entries()) {
      const counter = counters[i]!;
      if (key === this.#clientKey) this.#clientHasFailures = counter.count > 0;
      if (counter.lockedUntil > now) {
        const retryAfter = String(retryAfterSeconds(counter.lockedUntil, now));
        // 429, not invalid_client: the SDKs answer invalid_client by discarding the client's
        // registration and tokens, so a lock anyone can trigger would sign every user of it out.
        throw new OAuthError('rate_limited', LOCKED, {
          headers: { 'Retry-After': retryAfter },
          detail: `client ${printable(this.#presented.clientId)}: locked after repeated failures (${key === this.#clientKey ? 'client' : 'address'})`,
        });
      }
    }
  }

  /** Counts against the client only when it exists: made-up client ids must not fill the table. */
  async recordFailure(clientExists: boolean): Promise<void> {
    const now = this.#ctx.clock.now();
    for (const key of this.#keys()) {
      if (key === this.#clientKey && !clientExists) continue;
      await recordFailure(this.#ctx.storage, key, CLIENT_AUTH_BACKOFF, now);
    }
  }

  /** A client that authenticated is no longer being guessed at; its address may still be. */
  async recordSuccess(): Promise<void> {
    if (this.#clientHasFailures) await this.#ctx.storage.failures.clear(this.#clientKey);
  }

  #keys(): string[] {
    return this.#addressKey ? [this.#clientKey, this.#addressKey] : [this.#clientKey];
  }
}

/** Which method the request uses; `invalid_request` when it mixes two, `invalid_client` when it has none. */
function presentedCredentials(ctx: AppContext, request: Request, form: FormParams): Presented {
  const header = request.headers.get('Authorization');
  const basicMatch = header ? /^Basic[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  const bodyId = form.get('client_id');
  const bodySecret = form.get('client_secret');

  if (form.get('client_assertion') !== undefined || form.get('client_assertion_type') !== undefined) {
    if (basicMatch || bodySecret !== undefined) {
      throw new OAuthError('invalid_request', 'Use one client authentication method per request, not a client assertion and a secret together.');
    }
    return presentedAssertion(form, bodyId);
  }

  if (basicMatch) {
    if (bodySecret !== undefined) {
      throw new OAuthError('invalid_request', 'Use one client authentication method per request, not HTTP Basic and client_secret together.');
    }
    const credentials = decodeBasic(basicMatch[1] ?? '');
    if (!credentials) {
      throw new OAuthError('invalid_client', FAILED, { status: 401, headers: basicChallenge(ctx), detail: 'malformed Basic credentials' });
    }
    // RFC 6749 §2.3.1 lets a Basic client repeat its client_id in the body; it must be the same one.
    if (bodyId !== undefined && bodyId !== credentials.clientId) {
      throw new OAuthError('invalid_request', 'The client_id parameter does not match the HTTP Basic credentials.');
    }
    return { method: 'client_secret_basic', ...credentials };
  }
  if (bodyId === undefined) {
    if (bodySecret !== undefined) throw new OAuthError('invalid_request', 'The client_id parameter is required with client_secret.');
    throw new OAuthError('invalid_client', FAILED, { status: 401, detail: 'no client credentials' });
  }
  if (bodySecret !== undefined) return { method: 'client_secret_post', clientId: bodyId, secret: bodySecret };
  return { method: 'none', clientId: bodyId, secret: null };
}

/**
 * RFC 7523 §2.2: `client_assertion_type` and `client_assertion`; `client_id` may be left out, since
 * the assertion's `sub` names the client. When both are there they must agree.
 */
function presentedAssertion(form: FormParams, bodyId: string | undefined): Presented {
  const type = form.require('client_assertion_type');
  const assertion = form.require('client_assertion');
  if (type !== CLIENT_ASSERTION_TYPE) {
    throw new OAuthError('invalid_client', FAILED, { status: 401, detail: 'unsupported client_assertion_type' });
  }
  const subject = unverifiedAssertionSubject(assertion);
  if (subject === null) throw new OAuthError('invalid_client', FAILED, { status: 401, detail: 'client_assertion is not a JWT with a sub' });
  if (bodyId !== undefined && bodyId !== subject) {
    throw new OAuthError('invalid_client', FAILED, { status: 401, detail: `client ${printable(bodyId)}: assertion sub names another client` });
  }
  return { method: 'private_key_jwt', clientId: subject, secret: null, assertion };
}

/**
 * RFC 6749 §2.3.1: the client id and secret are each form-urlencoded, then joined by `:` and
 * base64-encoded (RFC 7617). Secrets we issue never contain `%` or `+`, so clients that skip the
 * encoding still work.
 */
function decodeBasic(token: string): { clientId: string; secret: string } | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(token), (ch) => ch.charCodeAt(0)));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (!clientId || !secret) return null;
  return { clientId, secret };
}

function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

function basicChallenge(ctx: AppContext): Record<string, string> {
  return { 'WWW-Authenticate': `Basic realm="${ctx.config.issuer}", charset="UTF-8"` };
}

/** A client-chosen id made safe and short for a log detail. */
function printable(value: string): string {
  const clean = value.replace(/[^\x20-\x7E]/g, '?');
  return clean.length > 80 ? clean.slice(0, 77) + '...' : clean;
}
