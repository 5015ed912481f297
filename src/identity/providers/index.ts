import type { ResolvedConfig } from '../../config/resolve.ts';
import type { AppContext } from '../../context.ts';
import { localIdentityProvider } from './local.ts';
import { OidcIdentityProvider } from './oidc.ts';
import { StytchIdentityProvider } from './stytch.ts';
import { isUpstream, type IdentityProvider, type UpstreamEnv, type UpstreamIdentityProvider } from './types.ts';

export { isUpstream, UpstreamLoginError, type IdentityProvider, type UpstreamEnv, type UpstreamIdentity, type UpstreamIdentityProvider } from './types.ts';

/** The upstream provider users are sent to, or null when they sign in with local accounts. */
export function upstreamProvider(ctx: Pick<AppContext, 'identity'>): UpstreamIdentityProvider | null {
  return isUpstream(ctx.identity) ? ctx.identity : null;
}

/**
 * The identity provider the configuration names (`identityProvider.kind`). Built once per app, at
 * assembly (`ctx.identity`), so its discovery and JWKS caches live as long as the app.
 */
export function createIdentityProvider(config: ResolvedConfig): IdentityProvider {
  const { kind, displayName, oidc, stytch } = config.identityProvider;
  // resolveConfig has checked that the chosen kind has what it needs (identityProviderProblem).
  switch (kind) {
    case 'oidc':
      return new OidcIdentityProvider(oidc ?? {}, displayName, config.toolPolicy.groupsClaim);
    case 'stytch':
      return new StytchIdentityProvider(stytch ?? {}, displayName);
    case 'local':
      return localIdentityProvider;
  }
}

/** Where every upstream provider sends the browser back: one fixed, exact URL (UP-03, UP-07). */
export const upstreamCallbackUrl = (config: Pick<ResolvedConfig, 'issuer'>): string => `${config.issuer}/callback`;

/** The injected clock, randomness and fetch, as the providers take them. */
export const upstreamEnv = (ctx: Pick<AppContext, 'fetch' | 'clock' | 'random'>): UpstreamEnv => ({ fetch: ctx.fetch, clock: ctx.clock, random: ctx.random });
