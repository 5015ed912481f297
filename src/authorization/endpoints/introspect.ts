import type { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { LocalTokenVerifier } from '../../resource/verify-local.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { seconds } from '../../util/clock.ts';
import { hashSecret } from '../../util/crypto.ts';
import { mountBackChannel } from '../back-channel.ts';
import { REFRESH_TOKEN_PREFIX } from '../grants/refresh-secrets.ts';

/** RFC 7662 §2.2: all a caller learns about a token that is not live, or not theirs to see. */
const INACTIVE = { active: false } as const;

type Introspection = Record<string, unknown> & { active: true };

/**
 * Token introspection (RFC 7662, SEC-53). Only confidential clients may call it (`client_secret_basic`
 * or `client_secret_post`: `ctx.capabilities.introspectionAuthMethods`), which stops anonymous
 * token scanning. A client may see only tokens issued to itself; there are no resource-server
 * clients yet that could be allowed more (SEC-53 rec: "tokens whose `aud` they own").
 *
 * Live means: an access token with a valid signature, unexpired, whose grant is live; or a refresh
 * token that has not been rotated, has not idled out, and whose grant is live.
 */
export function mountIntrospection(app: Hono, ctx: AppContext): void {
  // Tokens this server issued for any of its resources (config.resources), not only its own MCP URL.
  const verifier = new LocalTokenVerifier(ctx, { audience: 'every issued resource' });

  mountBackChannel(app, ctx, {
    path: '/introspect',
    authMethods: ctx.capabilities.introspectionAuthMethods,
    async answer({ client, form }) {
      const token = form.require('token');
      const live = token.startsWith(REFRESH_TOKEN_PREFIX) ? await introspectRefreshToken(ctx, client, token) : await introspectAccessToken(ctx, verifier, client, token);
      return live ?? INACTIVE;
    },
  });
}

async function introspectAccessToken(ctx: AppContext, verifier: LocalTokenVerifier, client: ClientRecord, token: string): Promise<Introspection | null> {
  const outcome = await verifier.verify(token);
  if (!outcome.ok || outcome.token.clientId !== client.clientId) return null;
  const { claims } = outcome.token;
  const username = await usernameOf(ctx, outcome.token.subject);
  const jkt = boundKey(claims.cnf);
  return {
    active: true,
    scope: outcome.token.scopes.join(' '),
    client_id: outcome.token.clientId,
    sub: outcome.token.subject,
    aud: claims.aud,
    iss: claims.iss,
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
    // RFC 9449 §6.2: a DPoP-bound token is introspected with its key's thumbprint and its type.
    token_type: jkt !== null ? 'DPoP' : 'Bearer',
    ...(jkt !== null ? { cnf: { jkt } } : {}),
    ...(username !== null ? { username } : {}),
  };
}

/** The `cnf.jkt` of a token's claims (RFC 9449 §6.1), or null for a bearer token. */
function boundKey(cnf: unknown): string | null {
  const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as { jkt?: unknown }).jkt : undefined;
  return typeof jkt === 'string' ? jkt : null;
}

async function introspectRefreshToken(ctx: AppContext, client: ClientRecord, token: string): Promise<Introspection | null> {
  const now = ctx.clock.now();
  const record = await ctx.storage.refreshTokens.get(hashSecret(token));
  if (!record || record.clientId !== client.clientId || record.rotatedAt !== null || record.expiresAt <= now) return null;
  const grant = await ctx.storage.grants.get(record.grantId);
  if (!grant || grant.revokedAt !== null || grant.expiresAt <= now) return null;
  const username = await usernameOf(ctx, grant.userId);
  return {
    active: true,
    scope: record.scopes.join(' '),
    client_id: record.clientId,
    sub: grant.userId,
    aud: grant.resource,
    iss: ctx.config.issuer,
    exp: seconds(record.expiresAt),
    iat: seconds(record.issuedAt),
    token_type: 'refresh_token',
    ...(username !== null ? { username } : {}),
  };
}

async function usernameOf(ctx: AppContext, userId: string): Promise<string | null> {
  return (await ctx.storage.users.byId(userId))?.username ?? null;
}
