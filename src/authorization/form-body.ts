import { OAuthError } from '../errors/oauth-error.ts';
import { decodeText, readCappedBody } from '../http/capped-body.ts';

/**
 * The size cap for every form this server reads: back-channel OAuth requests (/token, /revoke,
 * /introspect) and browser forms (POST /authorize, /login, /consent, /logout) are a few hundred bytes
 * to a few KiB; anything far bigger is not one of them.
 */
export const MAX_FORM_BYTES = 16 * 1024;

/**
 * The one reader of a form POST, back-channel or browser, so every form endpoint refuses the same
 * things with the same status: a body that is not `application/x-www-form-urlencoded` is a
 * `400 invalid_request` (RFC 6749 §5.2; OAuth 2.1 §3.2), one over `MAX_FORM_BYTES` a
 * `413 invalid_request`, refused before it is read whole (`readCappedBody`). Parameters come back
 * as sent; each caller applies its own rules on empty and repeated ones.
 */
export async function readForm(request: Request): Promise<URLSearchParams> {
  const mediaType = request.headers.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') {
    throw new OAuthError('invalid_request', 'The request body must be application/x-www-form-urlencoded.');
  }
  // With a declared length the runtime's parser holds the sender to it, so the body is read whole:
  // iterating it as a stream made `@hono/node-server` build a web Request and stream for every
  // token request (~7% of a refresh, bench/README.md).
  const body = await readCappedBody(request, MAX_FORM_BYTES, { trustDeclaredLength: true });
  if (!body.ok) throw new OAuthError('invalid_request', 'The request body is too large.', { status: 413 });
  return new URLSearchParams(decodeText(body.bytes));
}
