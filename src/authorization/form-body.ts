import { OAuthError } from '../errors/oauth-error.ts';

/**
 * The size cap for every form this server reads: back-channel OAuth requests (/token, /revoke,
 * /introspect) and browser forms (POST /authorize, /login, /consent, /logout) are a few hundred bytes
 * to a few KiB; anything far bigger is not one of them.
 */
export const MAX_FORM_BYTES = 16 * 1024;

const tooLarge = () => new OAuthError('invalid_request', 'The request body is too large.', { status: 413 });

/**
 * The body of a form POST as text, never holding more than `MAX_FORM_BYTES` of it: a declared larger
 * Content-Length is refused before reading, and a body sent without one (chunked) is read chunk by
 * chunk and refused, its stream cancelled, as soon as it passes the cap. Reading it whole first would
 * let one request make the server buffer any amount of memory before the check.
 */
export async function readFormBody(request: Request): Promise<string> {
  const declared = Number(request.headers.get('Content-Length') ?? 0);
  if (declared > MAX_FORM_BYTES) throw tooLarge();
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_FORM_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  // As `Request.text()` decodes: UTF-8, invalid sequences replaced, a leading BOM dropped.
  return new TextDecoder().decode(Buffer.concat(chunks));
}
