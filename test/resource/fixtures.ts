import { issueAccessToken } from '../../src/authorization/access-token.ts';
import type { UserRecord } from '../../src/storage/types.ts';
import { randomId } from '../../src/util/crypto.ts';
import type { TestApp } from '../helpers/app.ts';
import { clientRecord, grantRecord, userRecord } from '../helpers/records.ts';

export interface SignedIn {
  token: string;
  user: UserRecord;
  clientId: string;
  grantId: string;
  /** `Authorization` header for the token. */
  auth: { Authorization: string };
}

/**
 * A user, a client, a live grant and an access token for them, minted by the real token code. The
 * user row gets a placeholder password hash: these tests never log in through the pages.
 */
export async function signIn(
  t: Pick<TestApp, 'ctx'>,
  options: { username?: string; scopes?: string[]; clientId?: string; user?: UserRecord; dpopJkt?: string } = {},
): Promise<SignedIn> {
  const { ctx } = t;
  const now = ctx.clock.now();
  const user = options.user ?? userRecord({ id: 'usr_' + randomId(ctx.random), username: options.username ?? 'user-' + randomId(ctx.random, 6).toLowerCase(), createdAt: now });
  if (!options.user) await ctx.storage.users.create(user);
  const clientId = options.clientId ?? 'cli_' + randomId(ctx.random);
  if (!(await ctx.storage.clients.get(clientId))) await ctx.storage.clients.create(clientRecord({ clientId, clientName: 'Test client', createdAt: now }));
  const scopes = options.scopes ?? ['tasks:read'];
  const grantId = 'grt_' + randomId(ctx.random);
  await ctx.storage.grants.create(grantRecord({ id: grantId, userId: user.id, clientId, scopes, resource: ctx.config.resource, createdAt: now }));
  // `dpopJkt`: a DPoP-bound token (cnf.jkt, RFC 9449 §6), presented as `DPoP`; `auth` then has no proof.
  const { token } = await issueAccessToken(ctx, { subject: user.id, clientId, scopes, resource: ctx.config.resource, grantId, ...(options.dpopJkt ? { dpopJkt: options.dpopJkt } : {}) });
  return { token, user, clientId, grantId, auth: { Authorization: `${options.dpopJkt ? 'DPoP' : 'Bearer'} ${token}` } };
}

/** Parses `Bearer a="b", c="d \"e\""` into its parameters (RFC 7235 auth-param, quoted-string). */
export function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } {
  if (header === null) throw new Error('no WWW-Authenticate header');
  const match = /^(\S+)\s*(.*)$/s.exec(header);
  if (!match) throw new Error(`unparseable challenge: ${header}`);
  const params: Record<string, string> = {};
  const rest = match[2] ?? '';
  const param = /\s*([A-Za-z_][A-Za-z0-9_-]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
  for (let pos = 0; pos < rest.length; pos = param.lastIndex) {
    param.lastIndex = pos;
    const m = param.exec(rest);
    if (!m) throw new Error(`unparseable challenge: ${header}`);
    params[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
  }
  return { scheme: match[1]!, params };
}
