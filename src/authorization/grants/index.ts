import { authorizationCodeGrant } from './authorization-code.ts';
import { clientCredentialsGrant } from './client-credentials.ts';
import type { GrantType } from './grant-type.ts';
import { jwtBearerGrant } from './jwt-bearer.ts';
import { refreshTokenGrant } from './refresh-token.ts';

/**
 * The grant types the token endpoint knows, by `grant_type`. Only those also in
 * `ctx.capabilities.grantTypes` are served, so what is advertised is what is accepted.
 */
export const GRANT_TYPES: ReadonlyMap<string, GrantType> = new Map(
  [authorizationCodeGrant, refreshTokenGrant, clientCredentialsGrant, jwtBearerGrant].map((g) => [g.name, g]),
);
