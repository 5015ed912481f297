/**
 * Where a sign-in that belongs to no authorization request goes afterwards (`/login?next=/account`):
 * a path on this server, never a URL, so the login page cannot be made to send anyone elsewhere.
 * Letters, digits and `-._~/` only: no `//` (a network path), no backslash, no query, no dot segments.
 */
const SEGMENT = '[A-Za-z0-9_~-]+(?:\\.[A-Za-z0-9_~-]+)*';
// Segments are separated by exactly one slash, so the pattern has one way to match (no backtracking blow-up).
const RETURN_PATH = new RegExp(`^/(?:${SEGMENT}(?:/${SEGMENT})*/?)?$`);

export function returnPath(value: string | null | undefined): string | null {
  if (typeof value !== 'string' || value.length > 200 || !RETURN_PATH.test(value)) return null;
  return value;
}

/** The login page for a signed-out visitor of `path`, who comes back to it after signing in. */
export const signInUrl = (issuer: string, path: string): string => `${issuer}/login?next=${encodeURIComponent(path)}`;

/**
 * What an upstream login transaction continues when it is a sign-in to a page rather than an
 * authorization request: `page:<path>`. Request handles (an id, or `<payload>.<mac>`) never contain a colon.
 */
const PAGE_PREFIX = 'page:';
export const pageLoginHandle = (path: string): string => PAGE_PREFIX + path;
export function pageOfLoginHandle(handle: string): string | null {
  return handle.startsWith(PAGE_PREFIX) ? returnPath(handle.slice(PAGE_PREFIX.length)) : null;
}
