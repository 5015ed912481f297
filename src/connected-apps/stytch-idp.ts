import { asObject, fetchJson } from '../resource/verifiers/fetch-json.ts';
import { VerifierUnavailableError } from '../resource/types.ts';

/**
 * Stytch's headless Connected Apps consent API (the project secret's side of `<IdentityProvider/>`):
 * Start OAuth Authorization (`POST /v1/idp/oauth/authorize/start`) and OAuth Authorize
 * (`POST /v1/idp/oauth/authorize`); Attest Session (`POST /v1/sessions/attest`) for a person signed
 * in here; email one-time passcodes (`POST /v1/otps/email/login_or_create`, `/v1/otps/authenticate`)
 * for signing in at Stytch; all with HTTP Basic `project_id:secret`. Request and response shapes are
 * those of the `stytch` SDK's `idp.oauth.authorizeStart` / `authorize`, `sessions.attest`,
 * `otps.email.loginOrCreate` and `otps.authenticate`.
 */

/** The OAuth parameters of an authorization request, as Stytch takes them. */
export interface StytchAuthorizationParams {
  client_id: string;
  redirect_uri: string;
  response_type: string;
  scopes: string[];
  prompt?: string;
  state?: string;
  nonce?: string;
  code_challenge?: string;
  resources?: string[];
}

export interface StytchScopeResult {
  scope: string;
  description: string;
  is_grantable: boolean;
}

export interface AuthorizeStartResult {
  client: { client_id: string; client_name: string; client_description: string; client_type: string; logo_url?: string };
  consentRequired: boolean;
  scopeResults: StytchScopeResult[];
}

/** Stytch refused the request: its `error_type` (for the page and the log) and `error_message` (for the page). */
export class StytchApiError extends Error {
  readonly status: number;
  readonly errorType: string;
  readonly errorMessage: string;
  constructor(status: number, errorType: string, errorMessage: string) {
    super(`stytch ${status} ${errorType}`);
    this.name = 'StytchApiError';
    this.status = status;
    this.errorType = errorType;
    this.errorMessage = errorMessage;
  }
}

export interface StytchIdpOptions {
  /** The backend API base, e.g. `https://test.stytch.com/v1`. */
  apiUrl: string;
  projectId: string;
  secret: string;
  fetch: typeof fetch;
}

export interface StytchIdp {
  authorizeStart(params: StytchAuthorizationParams, userId: string): Promise<AuthorizeStartResult>;
  /** Where Stytch says the browser goes next: the client's redirect URI with a code, or with an error. */
  authorize(params: StytchAuthorizationParams, userId: string, consentGranted: boolean): Promise<string>;
  /** The Stytch user a Trusted Auth Token names (`sessions/attest`, without creating a session). */
  attest(profileId: string, token: string): Promise<string>;
  /** Stytch e-mails a one-time code to `email` (its user, created if new): the method id to check it with. */
  sendEmailCode(email: string): Promise<string>;
  /** The Stytch user whose code this is (`otps/authenticate`, without creating a session). */
  checkEmailCode(methodId: string, code: string): Promise<string>;
}

/** Start's fields are a subset of Authorize's: Stytch rejects the others there. */
const startFields = ({ client_id, redirect_uri, response_type, scopes, prompt }: StytchAuthorizationParams) => ({
  client_id,
  redirect_uri,
  response_type,
  scopes,
  ...(prompt !== undefined ? { prompt } : {}),
});

export function createStytchIdp(options: StytchIdpOptions): StytchIdp {
  const authorization = `Basic ${Buffer.from(`${options.projectId}:${options.secret}`).toString('base64')}`;

  async function call(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { status, body: answer } = await fetchJson(options.fetch, `${options.apiUrl}${path}`, {
      method: 'POST',
      headers: { Authorization: authorization, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const object = asObject(answer);
    if (status >= 200 && status < 300 && object) return object;
    if (status >= 500 || !object) throw new VerifierUnavailableError(`stytch ${path} answered ${status}`);
    const text = (name: string) => (typeof object[name] === 'string' ? (object[name] as string).slice(0, 300) : '');
    throw new StytchApiError(status, text('error_type') || 'unknown_error', text('error_message'));
  }

  return {
    async authorizeStart(params, userId) {
      const answer = await call('/idp/oauth/authorize/start', { ...startFields(params), user_id: userId });
      const client = asObject(answer['client']);
      const results = Array.isArray(answer['scope_results']) ? answer['scope_results'] : null;
      if (!client || typeof client['client_id'] !== 'string' || typeof answer['consent_required'] !== 'boolean' || !results) {
        throw new VerifierUnavailableError('stytch authorize/start answered without client, consent_required or scope_results');
      }
      const str = (value: unknown) => (typeof value === 'string' ? value : '');
      return {
        client: {
          client_id: client['client_id'],
          client_name: str(client['client_name']),
          client_description: str(client['client_description']),
          client_type: str(client['client_type']),
          ...(typeof client['logo_url'] === 'string' && client['logo_url'] !== '' ? { logo_url: client['logo_url'] } : {}),
        },
        consentRequired: answer['consent_required'],
        scopeResults: results.flatMap((r) => {
          const o = asObject(r);
          return o && typeof o['scope'] === 'string' ? [{ scope: o['scope'], description: str(o['description']), is_grantable: o['is_grantable'] === true }] : [];
        }),
      };
    },
    async authorize(params, userId, consentGranted) {
      const answer = await call('/idp/oauth/authorize', { ...params, user_id: userId, consent_granted: consentGranted });
      const target = answer['redirect_uri'];
      if (typeof target !== 'string' || !URL.canParse(target)) throw new VerifierUnavailableError('stytch authorize answered without a redirect_uri');
      return target;
    },
    async attest(profileId, token) {
      const answer = await call('/sessions/attest', { profile_id: profileId, token });
      const userId = answer['user_id'];
      if (typeof userId !== 'string' || userId === '') throw new VerifierUnavailableError('stytch sessions/attest answered without a user_id');
      return userId;
    },
    async sendEmailCode(email) {
      const answer = await call('/otps/email/login_or_create', { email });
      const emailId = answer['email_id'];
      if (typeof emailId !== 'string' || emailId === '') throw new VerifierUnavailableError('stytch otps/email/login_or_create answered without an email_id');
      return emailId;
    },
    async checkEmailCode(methodId, code) {
      const answer = await call('/otps/authenticate', { method_id: methodId, code });
      const userId = answer['user_id'];
      if (typeof userId !== 'string' || userId === '') throw new VerifierUnavailableError('stytch otps/authenticate answered without a user_id');
      return userId;
    },
  };
}
