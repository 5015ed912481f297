import { OAuthError } from '../errors/oauth-error.ts';
import { readFormBody } from './form-body.ts';

/** A parameter name simple enough to quote back in an `error_description` (RFC 6749 §5.2 charset). */
const QUOTABLE_NAME = /^[A-Za-z0-9_.-]{1,40}$/;

/**
 * The parameters of a back-channel OAuth request, read the way OAuth 2.1 §3.2 (SEC-27) says:
 * empty values count as absent, a parameter sent twice is refused, unknown parameters are ignored
 * (they are simply never asked for).
 */
export class FormParams {
  readonly #values: ReadonlyMap<string, string>;

  constructor(values: ReadonlyMap<string, string>) {
    this.#values = values;
  }

  /** The value of `name`, or undefined when it is absent or empty. */
  get(name: string): string | undefined {
    return this.#values.get(name);
  }

  /** The value of `name`; `invalid_request` naming it when absent. */
  require(name: string): string {
    const value = this.#values.get(name);
    if (value === undefined) throw new OAuthError('invalid_request', `The ${name} parameter is required.`);
    return value;
  }
}

/** Parses an `application/x-www-form-urlencoded` body; a repeated parameter is an `invalid_request`. */
export function parseForm(body: string): FormParams {
  const values = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(body)) {
    // Repetition counts even when one of the values is empty: `a=&a=x` is ambiguous, not "a=x".
    if (seen.has(name)) {
      const which = QUOTABLE_NAME.test(name) ? `The ${name} parameter` : 'A parameter';
      throw new OAuthError('invalid_request', `${which} must not be repeated.`);
    }
    seen.add(name);
    if (value !== '') values.set(name, value);
  }
  return new FormParams(values);
}

/**
 * Reads the form body of a request to a back-channel endpoint. Only `POST` with
 * `application/x-www-form-urlencoded` is accepted (OAuth 2.1 §3.2: credentials never travel in a
 * URL); anything else is refused before the body is read.
 */
export async function readForm(request: Request): Promise<FormParams> {
  if (request.method !== 'POST') {
    throw new OAuthError('invalid_request', 'This endpoint accepts only POST.', { status: 405, headers: { Allow: 'POST' } });
  }
  const mediaType = request.headers.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') {
    throw new OAuthError('invalid_request', 'The request body must be application/x-www-form-urlencoded.');
  }
  return parseForm(await readFormBody(request));
}
