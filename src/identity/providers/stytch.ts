import { stytchApiUrl, type IdentityProviderSettings } from '../../config/identity-provider.ts';
import type { UpstreamTransactionRecord } from '../../storage/types.ts';
import { base64url, pkceS256 } from '../../util/crypto.ts';
import { UpstreamLoginError, type UpstreamEnv, type UpstreamIdentity, type UpstreamIdentityProvider, type UpstreamStart } from './types.ts';

type StytchSettings = NonNullable<IdentityProviderSettings['stytch']>;

const REQUEST_TIMEOUT_MS = 10_000;
/** The query parameter of our redirect URL that carries the transaction handle. */
const TX_PARAM = 'tx';

/**
 * Stytch's consumer OAuth login (e.g. "Sign in with Google"), the login step of seed 2's gateway:
 *
 * 1. The browser goes to Stytch's OAuth start URL with the project's public token, and a login and
 *    sign-up redirect URL that carry our transaction handle (`/callback?tx=…`). Stytch does not pass
 *    an OAuth `state` through, so the handle rides in the URL; register it in the Stytch dashboard as
 *    `<publicUrl>/callback?tx={}` (`{}` matches any value). A PKCE `code_challenge` ties the token
 *    Stytch returns to this transaction: only we hold the verifier.
 * 2. Stytch sends the browser back with `stytch_token_type=oauth&token=…`; the server exchanges the
 *    one-time token at `POST {STYTCH_API_URL}/oauth/authenticate` with the project id and secret
 *    (HTTP Basic) and the verifier. No Stytch session is created (no `session_duration_minutes`):
 *    only the user is needed, and Stytch's session tokens and the provider's tokens are dropped.
 *
 * The identity is the Stytch user (`user_id`) of this project, never the e-mail address.
 */
export class StytchIdentityProvider implements UpstreamIdentityProvider {
  readonly kind = 'stytch' as const;
  readonly displayName: string;
  readonly #projectId: string;
  readonly #secret: string;
  readonly #publicToken: string;
  readonly #apiUrl: string;
  readonly #startUrl: string;

  constructor(settings: StytchSettings, displayName?: string) {
    if (!settings.projectId || !settings.secret || !settings.publicToken) throw new Error('stytch identity provider needs a project id, secret and public token');
    this.#projectId = settings.projectId;
    this.#secret = settings.secret;
    this.#publicToken = settings.publicToken;
    this.#apiUrl = stytchApiUrl(settings);
    const provider = settings.oauthProvider ?? 'google';
    this.#startUrl = settings.oauthStartUrl ?? `${this.#apiUrl}/public/oauth/${provider}/start`;
    this.displayName = displayName ?? providerName(settings.oauthStartUrl ? (/\/oauth\/([^/]+)\/start/.exec(new URL(settings.oauthStartUrl).pathname)?.[1] ?? provider) : provider);
  }

  /** Stytch's own issuer name for the project (the `iss` of its session JWTs). */
  get issuer(): string {
    return `stytch.com/${this.#projectId}`;
  }

  async start(state: string, callbackUrl: string, env: UpstreamEnv): Promise<UpstreamStart> {
    const codeVerifier = base64url(env.random(32));
    const redirect = new URL(callbackUrl);
    redirect.searchParams.set(TX_PARAM, state);
    const url = new URL(this.#startUrl);
    url.searchParams.set('public_token', this.#publicToken);
    // New users come back through the sign-up URL, returning ones through the login URL: both are ours.
    url.searchParams.set('login_redirect_url', redirect.href);
    url.searchParams.set('signup_redirect_url', redirect.href);
    url.searchParams.set('code_challenge', pkceS256(codeVerifier));
    return { url: url.href, codeVerifier, nonce: null };
  }

  stateOf(callback: URL): string | null {
    return callback.searchParams.get(TX_PARAM);
  }

  async finish(callback: URL, _callbackUrl: string, tx: UpstreamTransactionRecord, env: UpstreamEnv): Promise<UpstreamIdentity> {
    const q = callback.searchParams;
    if (q.has('error') || q.has('stytch_error')) throw new UpstreamLoginError('upstream_error', `stytch redirected with error=${q.get('error') ?? q.get('stytch_error')}`);
    const token = q.get('token');
    if (q.get('stytch_token_type') !== 'oauth' || !token) throw new UpstreamLoginError('invalid_response', 'callback has no stytch_token_type=oauth token');
    if (!tx.codeVerifier) throw new UpstreamLoginError('invalid_response', 'transaction has no PKCE verifier');

    let response: Response;
    try {
      response = await env.fetch(`${this.#apiUrl}/oauth/authenticate`, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(`${this.#projectId}:${this.#secret}`).toString('base64')}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body: JSON.stringify({ token, code_verifier: tx.codeVerifier }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new UpstreamLoginError('unavailable', `stytch authenticate failed: ${error instanceof Error ? error.name : 'error'}`);
    }
    const body = (await response.json().catch(() => null)) as AuthenticateResponse | StytchErrorBody | null;
    if (!response.ok) {
      // Stytch errors are `{status_code, error_type, error_message}`: the type goes to the log, nothing to the client.
      const type = body && 'error_type' in body && typeof body.error_type === 'string' ? body.error_type.slice(0, 80) : 'unknown';
      throw new UpstreamLoginError(response.status >= 500 ? 'unavailable' : 'upstream_error', `stytch authenticate ${response.status} error_type=${type}`);
    }
    if (!body || !('user_id' in body) || typeof body.user_id !== 'string' || body.user_id === '') {
      throw new UpstreamLoginError('invalid_response', 'stytch authenticate answered without a user_id');
    }
    const email = body.user?.emails?.find((e) => e.verified === true && typeof e.email === 'string')?.email ?? null;
    return { provider: 'stytch', issuer: this.issuer, subject: body.user_id, email };
  }
}

interface AuthenticateResponse {
  user_id: string;
  user?: { emails?: Array<{ email?: string; verified?: boolean }> };
}

interface StytchErrorBody {
  status_code?: number;
  error_type?: string;
}

function providerName(provider: string): string {
  const known: Record<string, string> = { google: 'Google', github: 'GitHub', microsoft: 'Microsoft', apple: 'Apple', gitlab: 'GitLab', linkedin: 'LinkedIn', slack: 'Slack' };
  return known[provider] ?? provider.charAt(0).toUpperCase() + provider.slice(1);
}
