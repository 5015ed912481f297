import { z } from 'zod';
import { authorizationServerProblem, resourcesProblem } from './authorization-server.ts';
import { trustedIdentityProvidersProblem } from './enterprise.ts';
import { identityProviderProblem } from './identity-provider.ts';
import { configSchema, type ConfigInput, type ParsedConfig } from './schema.ts';
import { stytchAuthorizationPageProblem } from './stytch-authorization-page.ts';
import { upstreamProblem, withGatewayScopeDefaults } from './upstream.ts';
import { LOOPBACK_HOSTS } from '../util/loopback.ts';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ResolvedConfig extends ParsedConfig {
  /** RFC 8414 issuer: the public origin, no trailing slash. Byte-identical everywhere it appears. */
  readonly issuer: string;
  /** RFC 8707/9728 resource identifier: the exact MCP endpoint URL, and the `aud` of access tokens. */
  readonly resource: string;
  /** Cookies get `Secure` and the `__Host-` prefix only over https. */
  readonly secureCookies: boolean;
  readonly scopeNames: ReadonlySet<string>;
}

/** Validates once at start; every message names the setting at fault. Never mutates its input. */
export function resolveConfig(input: ConfigInput = {}): Readonly<ResolvedConfig> {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const path = first?.path.join('.') || '(root)';
    throw new ConfigError(`Invalid setting ${path}: ${first?.message ?? z.prettifyError(parsed.error)}`);
  }
  const config = withGatewayScopeDefaults(input, parsed.data);

  const url = new URL(config.publicUrl ?? `http://localhost:${config.port}`);
  if (url.search || url.hash) throw new ConfigError('Invalid setting publicUrl: it must have no query or fragment');
  if (url.pathname !== '/') throw new ConfigError('Invalid setting publicUrl: give the origin only (e.g. https://mcp.example.com); set the MCP path with mcpPath');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('Invalid setting publicUrl: it must be http or https');
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname) && !config.dangerouslyAllowInsecureHttp) {
    throw new ConfigError(
      `Invalid setting publicUrl: ${url.origin} is plain http on a non-loopback host. Use https (terminate TLS at your proxy and set PORTCULLIS_PUBLIC_URL=https://…), or set PORTCULLIS_DANGEROUSLY_ALLOW_INSECURE_HTTP=true.`,
    );
  }

  const scopeNames = new Set(config.scopes.map((s) => s.name));
  if (scopeNames.size !== config.scopes.length) throw new ConfigError('Invalid setting scopes: scope names must be unique');
  for (const reserved of ['offline_access', 'openid']) {
    if (scopeNames.has(reserved)) throw new ConfigError(`Invalid setting scopes: ${reserved} is built in; do not declare it`);
  }
  for (const s of config.defaultScopes) {
    if (!scopeNames.has(s)) throw new ConfigError(`Invalid setting defaultScopes: ${s} is not one of the declared scopes`);
  }
  if (config.refreshTokenAbsoluteTtl < config.refreshTokenIdleTtl) {
    throw new ConfigError('Invalid setting refreshTokenAbsoluteTtl: it must be at least refreshTokenIdleTtl');
  }
  const idpProblem = identityProviderProblem(config.identityProvider, config.dangerouslyAllowInsecureHttp);
  if (idpProblem) throw new ConfigError(`Invalid setting ${idpProblem}`);
  const enterpriseProblem = trustedIdentityProvidersProblem(config);
  if (enterpriseProblem) throw new ConfigError(`Invalid setting ${enterpriseProblem}`);
  const gatewayProblem = upstreamProblem(config);
  if (gatewayProblem) throw new ConfigError(`Invalid setting ${gatewayProblem}`);
  const resourceModeProblem = resourcesProblem(config) ?? authorizationServerProblem(config, url.origin);
  if (resourceModeProblem) throw new ConfigError(`Invalid setting ${resourceModeProblem}`);
  const stytchPageProblem = stytchAuthorizationPageProblem(config);
  if (stytchPageProblem) throw new ConfigError(`Invalid setting ${stytchPageProblem}`);

  const issuer = url.origin;
  return Object.freeze({
    ...config,
    issuer,
    resource: issuer + config.mcpPath,
    secureCookies: url.protocol === 'https:',
    scopeNames,
  });
}
