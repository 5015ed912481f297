import { OAuthError } from '../../errors/oauth-error.ts';
import { readForm } from '../form-body.ts';

/**
 * The longest value accepted for each authorization request parameter (HARD-2): roomy for every real
 * client, and a bound on what one request can make the server carry to the login page and store.
 * A longer value is refused on our error page (phase 1: nothing is redirected yet).
 */
export const MAX_PARAMETER_LENGTH: Readonly<Record<string, number>> = {
  client_id: 2000,
  redirect_uri: 2000,
  resource: 2000,
  scope: 1000,
  state: 1024,
  nonce: 512,
  code_challenge: 128,
  code_challenge_method: 16,
  response_type: 32,
  response_mode: 32,
  prompt: 64,
  dpop_jkt: 128,
};
/** Parameters this server does not read are ignored, but still bounded. */
export const MAX_OTHER_PARAMETER_LENGTH = 2000;
/** Values in one request, repeats included. */
export const MAX_PARAMETERS = 50;

/**
 * The parameters of one request (query or form body), as OAuth 2.1 §3.2 and §4.1.1 read them: empty
 * values count as absent and a parameter may not repeat (SEC-27). Unknown parameters are ignored.
 * Each value is length-capped and the number of values bounded (HARD-2).
 */
export class RequestParams {
  readonly #values = new Map<string, string[]>();

  constructor(search: URLSearchParams) {
    let count = 0;
    for (const [name, value] of search) {
      if (++count > MAX_PARAMETERS) throw new OAuthError('invalid_request', `The request has too many parameters (at most ${MAX_PARAMETERS}).`);
      const max = Object.hasOwn(MAX_PARAMETER_LENGTH, name) ? MAX_PARAMETER_LENGTH[name]! : MAX_OTHER_PARAMETER_LENGTH;
      if (value.length > max) {
        throw new OAuthError('invalid_request', `The ${quoteForDescription(name, 40)} parameter is too long (at most ${max} characters).`);
      }
      if (value === '') continue;
      const list = this.#values.get(name);
      if (list) list.push(value);
      else this.#values.set(name, [value]);
    }
  }

  /** The single value of `name`, or undefined when absent. A repeated parameter is an `invalid_request`. */
  one(name: string, options: { redirectable?: boolean } = {}): string | undefined {
    const list = this.#values.get(name);
    if (list && list.length > 1) {
      throw new OAuthError('invalid_request', `The ${name} parameter must not be repeated.`, { redirectable: options.redirectable ?? false });
    }
    return list?.[0];
  }

  /** Every value of a parameter that may legitimately repeat (RFC 8707 `resource`). */
  all(name: string): readonly string[] {
    return this.#values.get(name) ?? [];
  }

  /** Names that appear more than once, except those allowed to repeat. */
  repeated(except: readonly string[] = []): string[] {
    return [...this.#values].filter(([name, list]) => list.length > 1 && !except.includes(name)).map(([name]) => name);
  }
}

/**
 * Reads the parameters of a GET (query) or a POST (form body, OAuth 2.1 §4.1.1 allows both for
 * /authorize). A POST is read by the one form reader (`readForm`); the query of a POST is ignored.
 */
export async function readParams(request: Request): Promise<RequestParams> {
  if (request.method !== 'POST') return new RequestParams(new URL(request.url).searchParams);
  return new RequestParams(await readForm(request));
}

/**
 * A client-supplied value made safe to quote in an `error_description`, whose characters RFC 6749
 * §4.1.2.1 restricts to %x20-21 / %x23-5B / %x5D-7E.
 */
export function quoteForDescription(value: string, max = 64): string {
  const clean = value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?');
  return clean.length > max ? clean.slice(0, max - 3) + '...' : clean;
}
