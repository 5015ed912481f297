import { z } from 'zod';
import { ASYMMETRIC_ALGORITHMS } from '../resource/verifiers/jwks.ts';
import { isPlaceholder } from './identity-provider.ts';
import type { ParsedConfig } from './schema.ts';
import { LOOPBACK_HOSTS } from '../util/loopback.ts';

/**
 * The `authorizationServer` setting: resource-only mode. When it is set, tokens come from that
 * authorization server (Stytch, any OAuth/OIDC server, another Portcullis), the PRM names it, and
 * the built-in authorization server is off. Every field is optional in the schema so that the
 * checks below can name the environment variable a missing value comes from.
 */
export const authorizationServerSchema = z
  .object({
    issuer: z.url().optional(),
    verifier: z.enum(['jwks', 'introspection', 'stytch']).default('jwks'),
    jwksUrl: z.url().optional(),
    tokenType: z.union([z.array(z.string().min(1)).min(1), z.literal(false)]).optional(),
    algorithms: z.array(z.string().min(1)).min(1).optional(),
    clockTolerance: z.number().int().min(0).max(300).default(0),
    introspection: z
      .object({
        endpoint: z.url().optional(),
        clientId: z.string().min(1).optional(),
        clientSecret: z.string().min(1).optional(),
        authMethod: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
      })
      .optional(),
    stytchStrictAudience: z.boolean().default(false),
    stytchB2b: z.boolean().default(false),
  })
  .optional()
  .describe(
    'PORTCULLIS_AUTHORIZATION_SERVER (or STYTCH_DOMAIN, which also picks the `stytch` verifier), PORTCULLIS_VERIFIER (`jwks`, `introspection` or `stytch`), PORTCULLIS_JWKS_URL, ' +
      'PORTCULLIS_TOKEN_TYPE (comma-separated, or `any`), PORTCULLIS_TOKEN_ALGORITHMS (comma-separated), PORTCULLIS_TOKEN_CLOCK_TOLERANCE, ' +
      'PORTCULLIS_INTROSPECTION_URL, PORTCULLIS_INTROSPECTION_CLIENT_ID, PORTCULLIS_INTROSPECTION_CLIENT_SECRET, PORTCULLIS_INTROSPECTION_AUTH_METHOD, PORTCULLIS_STYTCH_STRICT_AUDIENCE, PORTCULLIS_STYTCH_B2B; ' +
      '`portcullis start --authorization-server <issuer>`. ' +
      'Resource-only mode: trust the access tokens of another authorization server (Stytch, Auth0, Keycloak, any OAuth or OpenID Connect server, or another Portcullis) instead of running the built-in one. ' +
      'The MCP endpoint and its tools stay, the Protected Resource Metadata names `issuer` as the authorization server, and the built-in authorization server is off: no /authorize, /token, /register, login or consent pages, ' +
      'no authorization server metadata, no signing keys, no administrator account. Tasks are still kept per user (the token\'s `sub`) in the database. ' +
      '`issuer` must be https (plain http only on a loopback host) and byte-identical to the `iss` of its tokens. ' +
      '`verifier`: `jwks` (default) checks RFC 9068 JWT access tokens against the issuer\'s JWKS (`jwksUrl`, else the `jwks_uri` of its RFC 8414 or OpenID Connect metadata): signature with an asymmetric algorithm (`algorithms`, default all), `typ` (`tokenType`, default `at+jwt`; Stytch and Auth0 type theirs `JWT`; `false` skips the check), `iss`, and `aud` containing this server\'s MCP URL; ' +
      '`introspection` asks the RFC 7662 endpoint (`introspection.endpoint`, else discovered) with this server\'s own client credentials there, and requires `aud` to contain the MCP URL; ' +
      '`stytch` accepts what Stytch\'s `introspectTokenLocal` accepts for the project STYTCH_PROJECT_ID (`identityProvider.stytch.projectId` in a config file), with `issuer` the project domain (https); ' +
      'Stytch puts only the project id in `aud`, so any token of the project is accepted unless `stytchStrictAudience` is on (after giving the Connected App this server\'s MCP URL as a custom audience). ' +
      '`stytchB2b`: a Stytch B2B project: tokens must be scoped to an organization (`https://stytch.com/organization`), keys and RBAC policy come from the B2B API, and `toolPolicy` rules can name `organizations` and Stytch RBAC `permission`s (with STYTCH_SECRET). ' +
      '`clockTolerance`: seconds of leeway for `exp` and `nbf`.',
  );

export type AuthorizationServerSettings = NonNullable<z.output<typeof authorizationServerSchema>>;

/** What resource-only mode needs: the settings with an issuer. */
export type ExternalAuthorizationServer = AuthorizationServerSettings & { issuer: string };

/**
 * The `resources` setting: RFC 8707 resource indicators, besides its own MCP endpoint, that the
 * built-in authorization server issues tokens for (with `aud` = the one requested).
 */
export const resourcesSchema = z
  .array(z.url())
  .default([])
  .describe(
    'PORTCULLIS_RESOURCES (comma-separated). Other MCP servers this authorization server issues access tokens for, by their exact MCP URL (RFC 8707 resource indicators), ' +
      'e.g. a Portcullis in resource-only mode that names this server as its authorization server. A client asks for one with `resource=<URL>` at /authorize and /token and gets a token whose `aud` is that URL; ' +
      'the consent page shows which server the user grants access to. Any other `resource` is refused with `invalid_target`. The scopes are this server\'s.',
  );

/** Tokens and their keys are only as trustworthy as the channel they come over. */
function insecure(url: URL, allowInsecureHttp: boolean): boolean {
  return url.protocol !== 'https:' && !(url.protocol === 'http:' && (LOOPBACK_HOSTS.has(url.hostname) || allowInsecureHttp));
}

/**
 * What is wrong with `authorizationServer`, as `setting: message`, or null when it is usable (or
 * unset). Called by resolveConfig once the whole config is known.
 */
export function authorizationServerProblem(config: ParsedConfig, ownIssuer: string): string | null {
  const settings = config.authorizationServer;
  if (!settings) return null;
  const { verifier } = settings;
  if (!settings.issuer) return 'authorizationServer.issuer: required for resource-only mode: the issuer URL of the authorization server whose tokens to accept (PORTCULLIS_AUTHORIZATION_SERVER)';
  const issuer = new URL(settings.issuer);
  if (issuer.protocol !== 'https:' && issuer.protocol !== 'http:') return `authorizationServer.issuer: ${settings.issuer} must be an https URL`;
  // RFC 8414 §2: an issuer has no query or fragment.
  if (issuer.search || issuer.hash || settings.issuer.includes('#')) return `authorizationServer.issuer: ${settings.issuer} must have no query or fragment (RFC 8414 §2)`;
  if (insecure(issuer, config.dangerouslyAllowInsecureHttp)) {
    return `authorizationServer.issuer: ${settings.issuer} is plain http on a non-loopback host, so its keys and answers could be forged on the way. Use https.`;
  }
  if (issuer.origin === ownIssuer && issuer.pathname === '/') return `authorizationServer.issuer: ${settings.issuer} is this server itself, whose authorization server is off in resource-only mode`;
  if (config.identityProvider.kind !== 'local') {
    return `identityProvider.kind: ${config.identityProvider.kind} signs users in to the built-in authorization server, which is off in resource-only mode (authorizationServer is set); users sign in at ${settings.issuer}. Unset one of them.`;
  }
  if (config.resources.length > 0) return 'resources: tokens for other servers are issued by the built-in authorization server, which is off in resource-only mode (authorizationServer is set)';

  if (verifier !== 'jwks') {
    for (const name of ['jwksUrl', 'tokenType', 'algorithms'] as const) {
      if (settings[name] !== undefined) return `authorizationServer.${name}: only used by the jwks verifier, not ${verifier}`;
    }
  }
  if (settings.jwksUrl !== undefined && insecure(new URL(settings.jwksUrl), config.dangerouslyAllowInsecureHttp)) {
    return `authorizationServer.jwksUrl: ${settings.jwksUrl} must be https (plain http only on a loopback host)`;
  }
  const unsafe = settings.algorithms?.find((alg) => !ASYMMETRIC_ALGORITHMS.includes(alg));
  if (unsafe !== undefined) {
    return `authorizationServer.algorithms: ${unsafe} is not allowed; a resource server verifies with public keys only (${ASYMMETRIC_ALGORITHMS.join(', ')})`;
  }

  if (verifier === 'introspection') {
    const i: Partial<NonNullable<AuthorizationServerSettings['introspection']>> = settings.introspection ?? {};
    // RFC 7662 §2.1: the resource server authenticates to the introspection endpoint.
    if (!i.clientId) return 'authorizationServer.introspection.clientId: required by the introspection verifier: this server\'s client id at the authorization server (PORTCULLIS_INTROSPECTION_CLIENT_ID)';
    if (!i.clientSecret) return 'authorizationServer.introspection.clientSecret: required by the introspection verifier (PORTCULLIS_INTROSPECTION_CLIENT_SECRET)';
    if (isPlaceholder(i.clientSecret)) return `authorizationServer.introspection.clientSecret: "${i.clientSecret}" is a placeholder from a setup guide; copy the real value from your authorization server`;
    if (i.endpoint !== undefined && insecure(new URL(i.endpoint), config.dangerouslyAllowInsecureHttp)) {
      return `authorizationServer.introspection.endpoint: ${i.endpoint} must be https (plain http only on a loopback host)`;
    }
  } else if (settings.introspection !== undefined) {
    return `authorizationServer.introspection: only used by the introspection verifier, not ${verifier}`;
  }

  if (verifier === 'stytch') {
    const projectId = config.identityProvider.stytch?.projectId;
    if (!projectId) return 'identityProvider.stytch.projectId: required by the stytch verifier: your Stytch project id (STYTCH_PROJECT_ID)';
    if (!/^project-(test|live)-[A-Za-z0-9-]+$/.test(projectId)) return `identityProvider.stytch.projectId: ${projectId} does not look like a Stytch project id (project-test-… or project-live-…)`;
    // The Stytch SDK refuses a plain-http custom_base_url, and so does the verifier.
    if (issuer.protocol !== 'https:') return `authorizationServer.issuer: ${settings.issuer} must be https: it is your Stytch project domain (STYTCH_DOMAIN)`;
  } else if (settings.stytchStrictAudience) {
    return `authorizationServer.stytchStrictAudience: only used by the stytch verifier (the ${verifier} verifier always requires this server's URL in aud)`;
  } else if (settings.stytchB2b) {
    return `authorizationServer.stytchB2b: only used by the stytch verifier, not ${verifier}`;
  }
  return null;
}

/**
 * What `resources` may contain: absolute URLs without fragment (RFC 8707 §2), https unless on a
 * loopback host.
 */
export function resourcesProblem(config: ParsedConfig): string | null {
  for (const value of config.resources) {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return `resources: ${value} must be an https URL`;
    if (value.includes('#')) return `resources: ${value} must have no fragment (RFC 8707 §2)`;
    if (insecure(url, config.dangerouslyAllowInsecureHttp)) return `resources: ${value} is plain http on a non-loopback host; use https`;
  }
  return null;
}

/** Resource-only mode's settings, or null when the built-in authorization server is on. */
export function externalAuthorizationServer(config: Pick<ParsedConfig, 'authorizationServer'>): ExternalAuthorizationServer | null {
  const settings = config.authorizationServer;
  return settings?.issuer ? { ...settings, issuer: settings.issuer } : null;
}
