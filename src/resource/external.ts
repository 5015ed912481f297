import { externalAuthorizationServer, type ExternalAuthorizationServer } from '../config/authorization-server.ts';
import type { ResolvedConfig } from '../config/resolve.ts';
import type { AppContext } from '../context.ts';
import { createResourceGuard } from './guard.ts';
import type { ResourceServer } from './resource-server.ts';
import type { TokenVerifier } from './types.ts';
import { createIntrospectionVerifier } from './verifiers/introspection.ts';
import { createJwksVerifier } from './verifiers/jwks.ts';
import { createStytchVerifier } from './verifiers/stytch.ts';
import { LocalTokenVerifier } from './verify-local.ts';

type VerifierContext = Pick<AppContext, 'config' | 'fetch' | 'clock'>;

/**
 * Resource-only mode (`authorizationServer` set): the built-in authorization server is off and
 * tokens come from another one. False for the all-in-one server.
 */
export function isResourceOnly(config: Pick<ResolvedConfig, 'authorizationServer'>): boolean {
  return externalAuthorizationServer(config) !== null;
}

/**
 * The verifier resource-only mode's settings ask for, checking every token for this server's MCP
 * URL (`config.resource`, MCP RS-08/RS-18) and for the configured issuer. Outbound requests (metadata,
 * JWKS, introspection) use the context's fetch and clock, so tests can inject both.
 */
export function createExternalVerifier(ctx: VerifierContext, settings: ExternalAuthorizationServer): TokenVerifier {
  const { config, fetch, clock } = ctx;
  const common = { fetch, clock, clockToleranceSeconds: settings.clockTolerance };
  switch (settings.verifier) {
    case 'jwks':
      return createJwksVerifier({
        ...common,
        issuer: settings.issuer,
        audience: config.resource,
        ...(settings.jwksUrl !== undefined ? { jwksUrl: settings.jwksUrl } : {}),
        ...(settings.tokenType !== undefined ? { typ: settings.tokenType } : {}),
        ...(settings.algorithms !== undefined ? { algorithms: settings.algorithms } : {}),
      });
    case 'introspection': {
      const { endpoint, clientId = '', clientSecret = '', authMethod } = settings.introspection ?? {};
      return createIntrospectionVerifier({
        ...common,
        issuer: settings.issuer,
        ...(endpoint !== undefined ? { endpoint } : {}),
        clientId,
        clientSecret,
        clientAuthMethod: authMethod ?? 'client_secret_basic',
        // RS-18: an answer that does not say which resource the token is for is not good enough.
        audience: config.resource,
        requireAudience: true,
      });
    }
    case 'stytch':
      return createStytchVerifier({
        ...common,
        projectId: config.identityProvider.stytch?.projectId ?? '',
        projectDomain: settings.issuer,
        ...(settings.stytchStrictAudience ? { resourceAudience: config.resource } : {}),
        // The secret reads the RBAC policy, for tool policy `permission` rules; fetched only when one is decided.
        ...(config.identityProvider.stytch?.secret ? { secret: config.identityProvider.stytch.secret } : {}),
        ...(settings.stytchB2b ? { b2b: true } : {}),
      });
  }
}

/**
 * The resource server guarding this server's MCP endpoint: our own tokens (LocalTokenVerifier,
 * PRM naming our issuer), or in resource-only mode the configured verifier with the PRM naming the
 * external authorization server (RS-02). Built once per app: the verifiers hold the key and token caches.
 */
export function createMcpResourceGuard(ctx: AppContext): ResourceServer {
  const external = externalAuthorizationServer(ctx.config);
  if (!external) return createResourceGuard(ctx, new LocalTokenVerifier(ctx));
  return createResourceGuard(ctx, createExternalVerifier(ctx, external), { authorizationServers: [external.issuer] });
}
