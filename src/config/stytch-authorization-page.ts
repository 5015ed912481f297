import { z } from 'zod';
import type { ParsedConfig } from './schema.ts';
import { externalAuthorizationServer } from './authorization-server.ts';
import { identityProviderProblem } from './identity-provider.ts';

/**
 * The `stytchAuthorizationPage` setting: the page Stytch Connected Apps sends MCP clients to (its
 * dashboard's "Authorization URL"), served by Portcullis in resource-only mode with Stytch (seed 1:
 * the application hosts login, then consent). On by default when everything it needs is set.
 */
export const stytchAuthorizationPageSchema = z
  .object({
    enabled: z.boolean().default(true),
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9._~\-/]*[A-Za-z0-9._~-]$/, 'a path such as /oauth/authorize')
      .default('/oauth/authorize'),
    signIn: z.enum(['stytch-email', 'stytch-oauth', 'local', 'oidc']).optional(),
    trustedAuthTokenProfileId: z.string().min(1).optional(),
  })
  .default({ enabled: true, path: '/oauth/authorize' })
  .describe(
    'PORTCULLIS_STYTCH_AUTHORIZATION_PAGE (`on`/`off`), PORTCULLIS_STYTCH_AUTHORIZATION_PATH, PORTCULLIS_STYTCH_SIGN_IN (`stytch-email`, `stytch-oauth`, `local` or `oidc`), PORTCULLIS_STYTCH_TRUSTED_AUTH_PROFILE. ' +
      'With Stytch as the authorization server (STYTCH_DOMAIN) and STYTCH_SECRET set, this server hosts the page to paste into the Stytch dashboard as Connected Apps → Authorization URL, `<publicUrl><path>`. ' +
      'The person signs in first: `stytch-email` (the default without STYTCH_PUBLIC_TOKEN) with a one-time code Stytch e-mails them, nothing to set up; ' +
      '`stytch-oauth` (the default with STYTCH_PUBLIC_TOKEN) at Stytch\'s OAuth login (PORTCULLIS_STYTCH_OAUTH_PROVIDER, default google; register `<publicUrl><path>/callback?tx={}` as a Login and Sign-up redirect URL); ' +
      '`local` with a Portcullis account (`portcullis users add`), which this server vouches for to Stytch with a Trusted Auth Token (`sessions/attest` with the profile `trustedAuthTokenProfileId`; in the Stytch dashboard that profile names issuer `<publicUrl>`, audience `<publicUrl><path>`, JWKS URL `<publicUrl>/jwks`, `token_id` from `sub` and `email` from `email`, with just-in-time provisioning); ' +
      'or `oidc` at the OpenID Connect provider of `identityProvider.oidc` (PORTCULLIS_OIDC_ISSUER, PORTCULLIS_OIDC_CLIENT_ID, PORTCULLIS_OIDC_CLIENT_SECRET…; register `<publicUrl><path>/callback` there), vouched for to Stytch the same way. ' +
      'Then the consent page built from Stytch\'s Start OAuth Authorization (the client, the scopes the person may grant), skipped when Stytch says no consent is needed; Allow or Deny is sent to Stytch\'s OAuth Authorize and the browser goes where Stytch says. ' +
      'Also serves `/.well-known/oauth-authorization-server` here, a copy of the Stytch project\'s, for MCP clients of the 2025-03-26 revision that look for it at the MCP server. `enabled: false` turns both off.',
  );

export interface StytchAuthorizationPage {
  /** The page's path, e.g. `/oauth/authorize`. */
  path: string;
  /** The Stytch project domain (the authorization server). */
  issuer: string;
  projectId: string;
  secret: string;
  /** How people sign in: at Stytch (an e-mailed code, or its OAuth login), or here, attested to Stytch. */
  signIn: { kind: 'stytch-email' } | { kind: 'stytch-oauth'; publicToken: string } | { kind: 'local' | 'oidc'; trustedAuthTokenProfileId: string };
}

type PageConfig = Pick<ParsedConfig, 'authorizationServer' | 'identityProvider' | 'stytchAuthorizationPage'>;

/** The sign-in in force: the setting, else Stytch's OAuth login when there is a public token for it, else e-mailed codes. */
const signInKind = (config: PageConfig) => config.stytchAuthorizationPage.signIn ?? (config.identityProvider.stytch?.publicToken ? 'stytch-oauth' : 'stytch-email');

/** What the page needs, or null when it is off (not Stytch, switched off, or a credential missing). */
export function stytchAuthorizationPage(config: PageConfig): StytchAuthorizationPage | null {
  const external = externalAuthorizationServer(config);
  const stytch = config.identityProvider.stytch;
  if (!external || external.verifier !== 'stytch' || !config.stytchAuthorizationPage.enabled) return null;
  if (!stytch?.projectId || !stytch.secret) return null;
  const { path, trustedAuthTokenProfileId } = config.stytchAuthorizationPage;
  const common = { path, issuer: external.issuer, projectId: stytch.projectId, secret: stytch.secret };
  const kind = signInKind(config);
  switch (kind) {
    case 'stytch-email':
      return { ...common, signIn: { kind } };
    case 'stytch-oauth':
      return stytch.publicToken ? { ...common, signIn: { kind, publicToken: stytch.publicToken } } : null;
    case 'local':
    case 'oidc':
      return trustedAuthTokenProfileId ? { ...common, signIn: { kind, trustedAuthTokenProfileId } } : null;
  }
}

/** Why the page is off although Stytch is the authorization server, for the start-up output; null when on or not Stytch. */
export function stytchAuthorizationPageMissing(config: PageConfig): string | null {
  const external = externalAuthorizationServer(config);
  if (!external || external.verifier !== 'stytch' || !config.stytchAuthorizationPage.enabled || stytchAuthorizationPage(config)) return null;
  const kind = signInKind(config);
  const needed: [string, string | undefined][] = [['STYTCH_SECRET', config.identityProvider.stytch?.secret]];
  if (kind === 'stytch-oauth') needed.push(['STYTCH_PUBLIC_TOKEN', config.identityProvider.stytch?.publicToken]);
  if (kind === 'local' || kind === 'oidc') needed.push(['PORTCULLIS_STYTCH_TRUSTED_AUTH_PROFILE', config.stytchAuthorizationPage.trustedAuthTokenProfileId]);
  const missing = needed.filter(([, v]) => !v).map(([n]) => n);
  return `set ${missing.join(' and ')} to serve the Authorization URL page here`;
}

/** Whether this server signs Trusted Auth Tokens (and so needs a signing key and publishes `/jwks`) in resource-only mode. */
export function signsTrustedAuthTokens(config: PageConfig): boolean {
  const kind = stytchAuthorizationPage(config)?.signIn.kind;
  return kind === 'local' || kind === 'oidc';
}

/**
 * What is wrong with the page's sign-in settings, as `setting: message`, or null. With `signIn: oidc`
 * the OpenID Connect settings are checked as they are for `identityProvider.kind: oidc`.
 */
export function stytchAuthorizationPageProblem(config: ParsedConfig): string | null {
  if (stytchAuthorizationPage(config)?.signIn.kind !== 'oidc') return null;
  return identityProviderProblem({ ...config.identityProvider, kind: 'oidc' }, config.dangerouslyAllowInsecureHttp);
}
