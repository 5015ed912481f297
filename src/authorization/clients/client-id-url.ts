/**
 * Is this `client_id` a client ID metadata document URL (CIMD §3, MCP SEC-51)? An https URL with a
 * path, no `.`/`..` segments, no fragment, no username or password. A query is allowed by the draft
 * (clients SHOULD NOT use one). `allowHttp` is the test-only private-network setting: documents
 * served from 127.0.0.1 in tests are plain http.
 */
export type ClientIdUrlCheck = { ok: true; url: URL } | { ok: false; error: string } | { ok: false; notAUrl: true };

export function checkClientIdUrl(value: string, allowHttp: boolean): ClientIdUrlCheck {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme !== 'https' && !(allowHttp && scheme === 'http')) return { ok: false, notAUrl: true };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, error: 'the client_id is not a valid URL' };
  }
  if (value.includes('#')) return { ok: false, error: 'a client_id URL must not contain a fragment' };
  if (url.username || url.password) return { ok: false, error: 'a client_id URL must not contain a username or password' };
  // Checked on the raw string: the URL parser would silently remove the dot segments.
  const rawPath = value.slice(value.indexOf('//') + 2).replace(/^[^/?]*/, '').replace(/\?.*$/, '');
  if (rawPath.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) {
    return { ok: false, error: 'a client_id URL must not contain . or .. path segments' };
  }
  if (url.pathname === '/' || url.pathname === '') return { ok: false, error: 'a client_id URL must have a path' };
  return { ok: true, url };
}
