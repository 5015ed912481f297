import type { AppContext } from '../../context.ts';
import { serverMac } from '../../identity/csrf.ts';
import type { AuthorizationRequestRecord } from '../../storage/types.ts';
import { safeEqual } from '../../util/crypto.ts';

/**
 * A validated authorization request sealed into the login link instead of the database (HARD-2):
 * until someone has signed in, /authorize writes nothing, so unauthenticated traffic cannot fill a
 * table. The seal is an HMAC under the server key, so the page cannot alter what was validated, and
 * it carries the request's expiry. It is not encrypted: it holds only what the browser already sent
 * to /authorize. A sealed request is not single-use; what makes it yield a code is a password typed
 * (or an upstream login, whose transaction is single-use) — as a fresh /authorize would.
 */

type SealContext = Pick<AppContext, 'config' | 'secrets' | 'random'>;

const DOMAIN = 'authorization-request-v1';
/** `<payload>.<mac>`, both base64url; a stored request's id (22 characters, no dot) never looks like this. */
const SEALED = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;
/** Far above any request that passed /authorize's parameter caps; a longer handle is not opened. */
export const MAX_SEALED_LENGTH = 16_384;

export const looksSealed = (handle: string): boolean => handle.length <= MAX_SEALED_LENGTH && SEALED.test(handle);

/** The last field, `dpop_jkt`, came later: a seal without it (made before) opens as unbound. */
type Fields = [string, string, string, string | null, string[], string, string, string | null, string | null, number, number, (string | null)?];

/** The id goes in too: each /authorize seals a distinct handle, so a form's CSRF token fits only its own. */
export async function sealRequest(ctx: SealContext, r: AuthorizationRequestRecord): Promise<string> {
  const fields: Fields = [r.id, r.clientId, r.redirectUri, r.state, r.scopes, r.resource, r.codeChallenge, r.nonce, r.prompt, r.createdAt, r.expiresAt, r.dpopJkt ?? null];
  const payload = Buffer.from(JSON.stringify(fields)).toString('base64url');
  return `${payload}.${await serverMac(ctx, DOMAIN, payload)}`;
}

/** The request a sealed handle carries, or null when it is forged, altered or expired. */
export async function openSealedRequest(ctx: SealContext & Pick<AppContext, 'clock'>, handle: string): Promise<AuthorizationRequestRecord | null> {
  if (!looksSealed(handle)) return null;
  const [payload = '', mac = ''] = handle.split('.');
  if (!safeEqual(mac, await serverMac(ctx, DOMAIN, payload))) return null;
  const f = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Fields;
  const [id, clientId, redirectUri, state, scopes, resource, codeChallenge, nonce, prompt, createdAt, expiresAt, dpopJkt] = f;
  if (expiresAt <= ctx.clock.now()) return null;
  return { id, clientId, redirectUri, state, scopes, resource, codeChallenge, nonce, prompt, createdAt, expiresAt, ...(dpopJkt ? { dpopJkt } : {}) };
}
