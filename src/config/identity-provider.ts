import { z } from 'zod';
import { LOOPBACK_HOSTS } from '../util/loopback.ts';

/**
 * The `identityProvider` setting: who tells Portcullis who the user is at the login step. MCP clients
 * always get Portcullis's own codes and tokens (MCP UP-04); an upstream provider only identifies the
 * user. Every field is optional in the schema, so settings of an unused kind never stop a start;
 * `identityProviderProblem` checks what the chosen kind needs once the whole config is known.
 */
const oidcSchema = z.object({
  issuer: z.url().optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post', 'none']).optional(),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/)).optional(),
  authorizationEndpoint: z.url().optional(),
  tokenEndpoint: z.url().optional(),
  userinfoEndpoint: z.url().optional(),
  jwksUri: z.url().optional(),
});

const stytchSchema = z.object({
  projectId: z.string().min(1).optional(),
  secret: z.string().min(1).optional(),
  publicToken: z.string().min(1).optional(),
  apiUrl: z.url().optional(),
  oauthStartUrl: z.url().optional(),
  oauthProvider: z
    .string()
    .regex(/^[a-z0-9_-]{1,40}$/, 'an OAuth provider name such as google, github or microsoft')
    .optional(),
});

export const identityProviderSchema = z
  .object({
    kind: z.enum(['local', 'oidc', 'stytch']).default('local'),
    displayName: z.string().min(1).max(60).optional(),
    oidc: oidcSchema.optional(),
    stytch: stytchSchema.optional(),
  })
  .default({ kind: 'local' })
  .describe(
    'PORTCULLIS_IDP (or IDENTITY_PROVIDER: `local`, `oidc` or `stytch`; `oauth` means `oidc`), PORTCULLIS_IDP_NAME, ' +
      'PORTCULLIS_OIDC_ISSUER (or OAUTH_ISSUER), PORTCULLIS_OIDC_CLIENT_ID (or OAUTH_CLIENT_ID), PORTCULLIS_OIDC_CLIENT_SECRET (or OAUTH_CLIENT_SECRET), ' +
      'PORTCULLIS_OIDC_TOKEN_AUTH_METHOD, PORTCULLIS_OIDC_SCOPES (or OAUTH_SCOPES, space-separated), PORTCULLIS_OIDC_AUTHORIZATION_URL (or OAUTH_AUTHORIZATION_URL), ' +
      'PORTCULLIS_OIDC_TOKEN_URL (or OAUTH_TOKEN_URL), PORTCULLIS_OIDC_USERINFO_URL (or OAUTH_USERINFO_URL), PORTCULLIS_OIDC_JWKS_URL, ' +
      'STYTCH_PROJECT_ID, STYTCH_SECRET (or STYTCH_PROJECT_SECRET), STYTCH_PUBLIC_TOKEN, STYTCH_API_URL, STYTCH_OAUTH_URL, PORTCULLIS_STYTCH_OAUTH_PROVIDER. ' +
      'Who signs users in. `local`: accounts kept by Portcullis (`portcullis users add`). ' +
      '`oidc`: any OpenID Connect provider by its issuer URL (discovery, authorization code with PKCE, `state` and `nonce`, ID token checked against the provider\'s JWKS); register `<publicUrl>/callback` there as the redirect URI. ' +
      '`stytch`: Stytch\'s OAuth login (e.g. Google) as in the BioMCP gateway; register `<publicUrl>/callback?tx={}` as a Login and Sign-up redirect URL in the Stytch dashboard. ' +
      '`STYTCH_API_URL` picks the test (`https://test.stytch.com/v1`) or live (`https://api.stytch.com/v1`) API; by default it follows the project id. ' +
      'Users are linked by the provider\'s issuer and subject, never by e-mail. The MCP client is asked for consent before the user is sent to the provider, and only Portcullis\'s own tokens ever reach it.',
  );

export type IdentityProviderSettings = z.output<typeof identityProviderSchema>;

export const STYTCH_TEST_API = 'https://test.stytch.com/v1';
export const STYTCH_LIVE_API = 'https://api.stytch.com/v1';

/**
 * Values copied from setup guides rather than from a dashboard, e.g. seed 2's `your-secret-key` and
 * `replace-with-a-strong-secret-key`: starting with one would only fail later, at someone's login.
 */
const PLACEHOLDER = /^(your[-_ ]|replace[-_ ]?(me|with)|change[-_ ]?me|<.*>$|xxx+$|todo$|example$|placeholder$|secret$|test$)/i;

export const isPlaceholder = (value: string): boolean => PLACEHOLDER.test(value.trim());

/** The Stytch API base URL in force: the setting, else the API the project id belongs to. */
export function stytchApiUrl(stytch: NonNullable<IdentityProviderSettings['stytch']>): string {
  if (stytch.apiUrl) return stytch.apiUrl.replace(/\/+$/, '');
  return stytch.projectId?.startsWith('project-live-') ? STYTCH_LIVE_API : STYTCH_TEST_API;
}

/**
 * What is wrong with the identity-provider settings, as `setting: message`, or null when they are
 * usable. Called by resolveConfig so a bad value stops the start with a message naming the setting.
 */
export function identityProviderProblem(settings: IdentityProviderSettings, allowInsecureHttp: boolean): string | null {
  const insecure = (url: string): boolean => {
    const u = new URL(url);
    return u.protocol !== 'https:' && !(u.protocol === 'http:' && (LOOPBACK_HOSTS.has(u.hostname) || allowInsecureHttp));
  };
  const secrets = (values: Record<string, string | undefined>): string | null => {
    for (const [name, value] of Object.entries(values)) {
      if (value !== undefined && isPlaceholder(value)) return `${name}: "${value}" is a placeholder from a setup guide; copy the real value from your provider's dashboard`;
    }
    return null;
  };

  if (settings.kind === 'oidc') {
    const o = settings.oidc ?? {};
    if (!o.issuer) return 'identityProvider.oidc.issuer: required when the identity provider is oidc (PORTCULLIS_OIDC_ISSUER)';
    if (!o.clientId) return 'identityProvider.oidc.clientId: required when the identity provider is oidc (PORTCULLIS_OIDC_CLIENT_ID)';
    const placeholder = secrets({ 'identityProvider.oidc.clientId': o.clientId, 'identityProvider.oidc.clientSecret': o.clientSecret });
    if (placeholder) return placeholder;
    if (o.tokenEndpointAuthMethod && o.tokenEndpointAuthMethod !== 'none' && !o.clientSecret) {
      return `identityProvider.oidc.clientSecret: required for ${o.tokenEndpointAuthMethod} (PORTCULLIS_OIDC_CLIENT_SECRET)`;
    }
    if (!(o.scopes ?? ['openid']).includes('openid')) return 'identityProvider.oidc.scopes: must include openid (an ID token is what identifies the user)';
    const explicit = [o.authorizationEndpoint, o.tokenEndpoint, o.jwksUri].filter((v) => v !== undefined).length;
    if (explicit !== 0 && explicit !== 3) {
      return 'identityProvider.oidc: give authorizationEndpoint, tokenEndpoint and jwksUri together (to skip discovery), or none of them (to use discovery)';
    }
    for (const [name, url] of Object.entries({ issuer: o.issuer, authorizationEndpoint: o.authorizationEndpoint, tokenEndpoint: o.tokenEndpoint, userinfoEndpoint: o.userinfoEndpoint, jwksUri: o.jwksUri })) {
      if (url && insecure(url)) return `identityProvider.oidc.${name}: ${url} must be https (plain http only on a loopback host)`;
    }
    return null;
  }

  if (settings.kind === 'stytch') {
    const s = settings.stytch ?? {};
    if (!s.projectId) return 'identityProvider.stytch.projectId: required when the identity provider is stytch (STYTCH_PROJECT_ID)';
    if (!s.secret) return 'identityProvider.stytch.secret: required when the identity provider is stytch (STYTCH_SECRET)';
    if (!s.publicToken) return 'identityProvider.stytch.publicToken: required when the identity provider is stytch (STYTCH_PUBLIC_TOKEN)';
    const placeholder = secrets({ 'identityProvider.stytch.projectId': s.projectId, 'identityProvider.stytch.secret': s.secret, 'identityProvider.stytch.publicToken': s.publicToken });
    if (placeholder) return placeholder;
    // A live project's credentials are unknown to the test API and vice versa: say so now, not at the first login.
    const api = stytchApiUrl(s);
    const live = s.projectId.startsWith('project-live-');
    const test = s.projectId.startsWith('project-test-');
    if ((live && api === STYTCH_TEST_API) || (test && api === STYTCH_LIVE_API)) {
      return `identityProvider.stytch.apiUrl: ${api} is the ${live ? 'test' : 'live'} API but ${s.projectId} is a ${live ? 'live' : 'test'} project`;
    }
    for (const [name, url] of Object.entries({ apiUrl: s.apiUrl, oauthStartUrl: s.oauthStartUrl })) {
      if (url && insecure(url)) return `identityProvider.stytch.${name}: ${url} must be https (plain http only on a loopback host)`;
    }
    return null;
  }
  return null;
}
