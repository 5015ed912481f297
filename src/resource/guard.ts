import type { AppContext } from '../context.ts';
import { createResourceServer, type ResourceServer, type ResourceServerOptions } from './resource-server.ts';
import { resourceScopes, SCOPE_IMPLICATIONS } from './scopes.ts';
import type { TokenVerifier } from './types.ts';

export type { Principal } from './types.ts';

type GuardContext = Pick<AppContext, 'config' | 'logger' | 'dpop'>;

/**
 * The resource server of Portcullis's own MCP endpoint: the library's `createResourceServer`, filled
 * in from the configuration. By default the authorization server is our own issuer; `overrides`
 * let resource-only mode name another one.
 */
export function createResourceGuard(ctx: GuardContext, verifier: TokenVerifier, overrides: Partial<ResourceServerOptions> = {}): ResourceServer {
  const { config } = ctx;
  return createResourceServer({
    resource: config.resource,
    authorizationServers: [config.issuer],
    scopesSupported: resourceScopes(config.scopes.map((s) => s.name)),
    // What a client should ask for to start using the endpoint (RS-04); offline_access never (RS-16).
    challengeScopes: resourceScopes(config.defaultScopes),
    scopeImplications: SCOPE_IMPLICATIONS,
    resourceName: config.serverName,
    logger: ctx.logger,
    dangerouslyAllowInsecureHttp: config.dangerouslyAllowInsecureHttp,
    // The app's DPoP: replay store and nonces shared by every instance, `required` from `dpopRequired`.
    dpop: ctx.dpop,
    ...overrides,
    verifier,
  });
}
