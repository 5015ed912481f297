import { OAuthError } from '../../errors/oauth-error.ts';
import { quoteForDescription, type RequestParams } from './params.ts';

/** OpenID Connect Core §3.1.2.1 `prompt` values this server understands. */
const KNOWN = new Set(['none', 'login', 'consent', 'select_account']);

export interface Prompt {
  /** No page may be shown: if login or consent is needed, answer `login_required` / `consent_required`. */
  none: boolean;
  /** Ask for the password even when the browser is signed in. */
  login: boolean;
  /** Ask for consent even when it was given before. */
  consent: boolean;
  /** Let the user choose the account (continue as the signed-in one, or sign in as another). */
  selectAccount: boolean;
}

export function parsePrompt(value: string | null | undefined): Prompt {
  const values = new Set((value ?? '').split(' ').filter((v) => v !== ''));
  return { none: values.has('none'), login: values.has('login'), consent: values.has('consent'), selectAccount: values.has('select_account') };
}

/**
 * Phase 2: `prompt` as a normalised string to store with the request, or null. `none` cannot be
 * combined with anything else (OIDC Core §3.1.2.1); unknown values are refused rather than ignored,
 * so a client never believes a behaviour it asked for happened.
 */
export function checkPrompt(params: RequestParams): string | null {
  const value = params.one('prompt', { redirectable: true });
  if (value === undefined) return null;
  const values = [...new Set(value.split(' ').filter((v) => v !== ''))];
  const unknown = values.filter((v) => !KNOWN.has(v));
  if (unknown.length > 0) {
    throw new OAuthError('invalid_request', `prompt ${quoteForDescription(unknown.join(' '))} is not supported; use none, login, consent or select_account.`, { redirectable: true });
  }
  if (values.includes('none') && values.length > 1) {
    throw new OAuthError('invalid_request', 'prompt=none cannot be combined with other prompt values.', { redirectable: true });
  }
  return values.length > 0 ? values.join(' ') : null;
}
