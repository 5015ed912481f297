/**
 * The browser cookies of the login flow. Over https they carry `Secure` and the `__Host-` prefix, which
 * pins them to this exact origin and path / (no Domain, so a sibling subdomain cannot plant one).
 * Always HttpOnly (no script reads them) and SameSite=Lax (sent on the top-level navigation from the
 * MCP client to /authorize, not on cross-site POSTs).
 */
export const SESSION_COOKIE = 'portcullis_session';
export const LOGIN_CSRF_COOKIE = 'portcullis_login_csrf';

export function cookieName(base: string, secure: boolean): string {
  return secure ? `__Host-${base}` : base;
}

export function serializeCookie(name: string, value: string, options: { secure: boolean; maxAgeSeconds: number }): string {
  const parts = [`${name}=${value}`, 'Path=/', `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`, 'HttpOnly', 'SameSite=Lax'];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** A Set-Cookie that removes the cookie. */
export function clearCookie(name: string, secure: boolean): string {
  return serializeCookie(name, '', { secure, maxAgeSeconds: 0 });
}

/** The value of one cookie from the request's Cookie header (the first one, if a name repeats). */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get('Cookie');
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
