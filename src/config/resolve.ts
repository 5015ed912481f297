import { z } from 'zod';
import { ConfigError } from './config-error.ts';
import { authorizationServerProblem, resourcesProblem } from './authorization-server.ts';
import { trustedIdentityProvidersProblem } from './enterprise.ts';
import { identityProviderProblem } from './identity-provider.ts';
import { configSchema, type ConfigInput, type ParsedConfig } from './schema.ts';
import { databaseProblem } from './database.ts';
import { invalidSettingMessage } from './setting-names.ts';
import { toolPolicyProblem } from './tool-policy.ts';
import { stytchAuthorizationPageProblem } from './stytch-authorization-page.ts';
import { upstreamProblem, withGatewayScopeDefaults } from './upstream.ts';
import { LOOPBACK_HOSTS } from '../util/loopback.ts';

export { ConfigError } from './config-error.ts';

export interface ResolvedConfig extends Omit<ParsedConfig, 'defaultScopes'> {
  /** Granted when a request names no scope, and in the first challenge: `defaultScopes`, or every declared scope when unset. */
  readonly defaultScopes: string[];
  /** RFC 8414 issuer: the public origin, no trailing slash. Byte-identical everywhere it appears. */
  readonly issuer: string;
  /** RFC 8707/9728 resource identifier: the exact MCP endpoint URL, and the `aud` of access tokens. */
  readonly resource: string;
  /** Cookies get `Secure` and the `__Host-` prefix only over https. */
  readonly secureCookies: boolean;
  readonly scopeNames: ReadonlySet<string>;
}

const invalid = (problem: string): ConfigError => new ConfigError(invalidSettingMessage(problem));

/** Validates once at start; every message names the setting at fault. Never mutates its input. */
export function resolveConfig(input: ConfigInput = {}): Readonly<ResolvedConfig> {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const path = first?.path.join('.') || '(root)';
    throw invalid(`${path}: ${first?.message ?? z.prettifyError(parsed.error)}`);
  }
  const gatewayAware = withGatewayScopeDefaults(input, parsed.data);
  const config = { ...gatewayAware, defaultScopes: gatewayAware.defaultScopes ?? gatewayAware.scopes.map((s) => s.name) };

  const url = new URL(config.publicUrl ?? `http://localhost:${config.port}`);
  if (url.search || url.hash) throw invalid('publicUrl: it must have no query or fragment');
  if (url.pathname !== '/') throw invalid('publicUrl: give the origin only (e.g. https://mcp.example.com); set the MCP path with mcpPath (PORTCULLIS_MCP_PATH)');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('publicUrl: it must be http or https');
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname) && !config.dangerouslyAllowInsecureHttp) {
    throw invalid(
      `publicUrl: ${url.origin} is plain http on a non-loopback host. Use https (terminate TLS at your proxy and set PORTCULLIS_PUBLIC_URL=https://…), or set PORTCULLIS_DANGEROUSLY_ALLOW_INSECURE_HTTP=true.`,
    );
  }

  const scopeNames = new Set(config.scopes.map((s) => s.name));
  if (scopeNames.size !== config.scopes.length) throw invalid('scopes: scope names must be unique');
  for (const reserved of ['offline_access', 'openid']) {
    if (scopeNames.has(reserved)) throw invalid(`scopes: ${reserved} is built in; do not declare it`);
  }
  for (const s of config.defaultScopes) {
    if (!scopeNames.has(s)) throw invalid(`defaultScopes: ${s} is not one of the declared scopes`);
  }
  if (config.refreshTokenAbsoluteTtl < config.refreshTokenIdleTtl) {
    throw invalid('refreshTokenAbsoluteTtl: it must be at least refreshTokenIdleTtl (PORTCULLIS_REFRESH_TOKEN_IDLE_TTL)');
  }
  const dbProblem = databaseProblem(config.database);
  if (dbProblem) throw invalid(`database: ${dbProblem}`);
  const idpProblem = identityProviderProblem(config.identityProvider, config.dangerouslyAllowInsecureHttp);
  if (idpProblem) throw invalid(idpProblem);
  const enterpriseProblem = trustedIdentityProvidersProblem(config);
  if (enterpriseProblem) throw invalid(enterpriseProblem);
  const gatewayProblem = upstreamProblem(config);
  if (gatewayProblem) throw invalid(gatewayProblem);
  const policyProblem = toolPolicyProblem(config);
  if (policyProblem) throw invalid(policyProblem);
  const resourceModeProblem = resourcesProblem(config) ?? authorizationServerProblem(config, url.origin);
  if (resourceModeProblem) throw invalid(resourceModeProblem);
  const stytchPageProblem = stytchAuthorizationPageProblem(config);
  if (stytchPageProblem) throw invalid(stytchPageProblem);

  const issuer = url.origin;
  return Object.freeze({
    ...config,
    issuer,
    resource: issuer + config.mcpPath,
    secureCookies: url.protocol === 'https:',
    scopeNames,
  });
}
