import { OAuthError } from '../errors/oauth-error.ts';

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

/** Reads an `application/x-www-form-urlencoded` body strictly: a repeated parameter is an `invalid_request`. */
export function parseForm(body: string | URLSearchParams): FormParams {
  const values = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of typeof body === 'string' ? new URLSearchParams(body) : body) {
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
