import type { AppContext } from '../context.ts';
import type { UpstreamTransactionRecord } from '../storage/types.ts';
import { KeyRing } from '../keys/key-encryption.ts';
import { hashSecret, randomId, safeEqual } from '../util/crypto.ts';
import { cookieName, readCookie, serializeCookie } from './cookies.ts';
import type { UpstreamIdentityProvider, UpstreamStart } from './providers/types.ts';

/**
 * One login at an upstream provider (BP-06, UP-02):
 *
 * - created only after the user consented to the MCP client, just before the redirect upstream;
 * - its handle (`state`) is 256 random bits, stored only as a hash;
 * - bound to the browser that started it: the redirect sets a cookie whose hash the transaction
 *   keeps, and a callback without that cookie is refused — so a login started in one browser cannot
 *   be completed in another (seed 2 defect 1: the gateway matched callbacks to "the most recent
 *   /authorize of anyone");
 * - single use (taken atomically at the callback) and expiring after 10 minutes;
 * - its upstream PKCE verifier and nonce are stored encrypted with a key derived from the handle and
 *   the browser's cookie, both stored only as hashes: reading the database gives neither.
 *
 * The cookie identifies the browser, not one login: a second login started in another tab reuses
 * it, so both can finish. `__Host-` prefixed and `Secure` over https, HttpOnly, SameSite=Lax (it
 * must come along on the provider's top-level redirect back to us).
 */
export const UPSTREAM_COOKIE = 'portcullis_upstream';
export const UPSTREAM_TRANSACTION_TTL_MS = 10 * 60_000;

/** 32 random bytes in base64url: anything else is not one of ours and costs no database read. */
const HANDLE = /^[A-Za-z0-9_-]{43}$/;
export const isTransactionHandle = (value: string | null | undefined): value is string => typeof value === 'string' && HANDLE.test(value);

type TxContext = Pick<AppContext, 'config' | 'storage' | 'clock' | 'random'>;

const upstreamCookieName = (ctx: Pick<AppContext, 'config'>): string => cookieName(UPSTREAM_COOKIE, ctx.config.secureCookies);

export interface StartedTransaction {
  state: string;
  /** The Set-Cookie header binding the browser. */
  setCookie: string;
}

/**
 * Creates the transaction for `request` and returns its handle and cookie. `start` builds the
 * provider redirect for the handle; the transaction is stored only once that succeeded.
 */
export async function createUpstreamTransaction(
  ctx: TxContext,
  browser: Request,
  /** The authorization request it continues, by its handle: a stored id or the request sealed. */
  request: { handle: string; expiresAt: number },
  provider: UpstreamIdentityProvider,
  start: (state: string) => Promise<UpstreamStart>,
): Promise<StartedTransaction & { url: string }> {
  const state = randomId(ctx.random, 32);
  const existing = readCookie(browser, upstreamCookieName(ctx));
  const binding = isTransactionHandle(existing) ? existing : randomId(ctx.random, 32);
  const started = await start(state);
  const now = ctx.clock.now();
  const record: UpstreamTransactionRecord = {
    stateHash: hashSecret(state),
    browserHash: hashSecret(binding),
    requestId: request.handle,
    provider: provider.kind,
    codeVerifier: sealed(binding, state, 'code_verifier', started.codeVerifier),
    nonce: sealed(binding, state, 'nonce', started.nonce),
    createdAt: now,
    // Useless once the authorization request it continues has expired.
    expiresAt: Math.min(now + UPSTREAM_TRANSACTION_TTL_MS, request.expiresAt),
  };
  await ctx.storage.upstreamTransactions.create(record);
  const setCookie = serializeCookie(upstreamCookieName(ctx), binding, { secure: ctx.config.secureCookies, maxAgeSeconds: UPSTREAM_TRANSACTION_TTL_MS / 1000 });
  return { state, setCookie, url: started.url };
}

export type TakenTransaction =
  | { status: 'ok'; transaction: UpstreamTransactionRecord }
  /** No such transaction: never created, already used, expired, or for another provider. */
  | { status: 'unknown' }
  /** It exists but this browser did not start it. It is spent all the same. */
  | { status: 'other_browser' };

/**
 * Takes the transaction a callback names. Taking comes first and is atomic, so a handle is spent by
 * its first use whoever presents it: a callback that reaches the wrong browser (an attacker's link
 * followed by a victim) cannot be replayed later from the right one.
 */
export async function takeUpstreamTransaction(ctx: TxContext, browser: Request, state: string, provider: UpstreamIdentityProvider): Promise<TakenTransaction> {
  const transaction = await ctx.storage.upstreamTransactions.take(hashSecret(state), ctx.clock.now());
  if (!transaction || transaction.provider !== provider.kind) return { status: 'unknown' };
  const binding = readCookie(browser, upstreamCookieName(ctx));
  if (!isTransactionHandle(binding) || !safeEqual(hashSecret(binding), transaction.browserHash)) return { status: 'other_browser' };
  try {
    const codeVerifier = opened(binding, state, 'code_verifier', transaction.codeVerifier);
    const nonce = opened(binding, state, 'nonce', transaction.nonce);
    return { status: 'ok', transaction: { ...transaction, codeVerifier, nonce } };
  } catch {
    // Altered in storage (or left in clear by an earlier version): the login starts over.
    return { status: 'unknown' };
  }
}

const transactionKey = (binding: string, state: string): KeyRing => KeyRing.derivedFrom(`${binding}.${state}`, 'upstream login transaction');

function sealed(binding: string, state: string, field: string, value: string | null): string | null {
  return value === null ? null : transactionKey(binding, state).seal(`upstream ${field}`, value);
}

function opened(binding: string, state: string, field: string, value: string | null): string | null {
  return value === null ? null : transactionKey(binding, state).open(`upstream ${field}`, value);
}
