import type { AppContext } from '../context.ts';
import { redirectHost } from '../authorization/endpoints/consent.ts';
import { describeScopes } from '../authorization/authorize/scope-descriptions.ts';
import { resolveClient } from '../authorization/clients/resolve-client.ts';
import { sessionCsrfToken } from '../identity/csrf.ts';
import type { SignedIn } from '../identity/login-sessions.ts';
import type { ClientRecord } from '../storage/types.ts';
import type { ClientTrust, ConnectedApp } from '../ui/index.ts';

/** What a revoke form's CSRF token is bound to: the session, and this one grant. */
export const revokeSubject = (grantId: string): string => `revoke:${grantId}`;

/** The signed-in user's live grants as the account page lists them, newest first. */
export async function connectedApps(ctx: AppContext, signedIn: SignedIn): Promise<ConnectedApp[]> {
  const activity = await ctx.storage.grants.activityForUser(signedIn.user.id, ctx.clock.now());
  const clients = new Map<string, ClientRecord | null>();
  for (const { grant } of activity) if (!clients.has(grant.clientId)) clients.set(grant.clientId, await clientOf(ctx, grant.clientId));
  return activity
    .map(({ grant, lastUsedAt, refreshableUntil }) => {
      const client = clients.get(grant.clientId) ?? null;
      return {
        grantId: grant.id,
        name: client?.clientName ?? grant.clientId,
        trust: trustOf(client),
        redirectHosts: [...new Set((client?.redirectUris ?? []).map(safeRedirectHost).filter((h) => h !== null))].slice(0, 3),
        scopes: describeScopes(ctx.config, grant.scopes),
        connectedAt: grant.createdAt,
        lastUsedAt,
        refreshableUntil,
        revokeCsrfToken: sessionCsrfToken(signedIn.session, 'account', revokeSubject(grant.id)),
      };
    })
    .reverse();
}

/**
 * The client a grant belongs to. A metadata-document client is read through the one fetch policy
 * (cached); if its document cannot be read now, the page still lists the grant, so it can be revoked.
 */
async function clientOf(ctx: AppContext, clientId: string): Promise<ClientRecord | null> {
  try {
    return await resolveClient(ctx, clientId);
  } catch {
    return null;
  }
}

function trustOf(client: ClientRecord | null): ClientTrust {
  if (!client) return { kind: 'unknown' };
  if (client.source === 'cimd') return { kind: 'domain', host: new URL(client.clientId).host };
  if (client.source === 'cli') return { kind: 'operator' };
  return { kind: 'self' };
}

function safeRedirectHost(uri: string): string | null {
  try {
    return redirectHost(uri);
  } catch {
    return null;
  }
}
