import type { AuthorizationCodeRecord, ClientRecord, GrantRecord, RefreshTokenRecord } from '../../src/storage/types.ts';
import { clientRecord, grantRecord } from '../helpers/records.ts';

/**
 * Record builders for the storage contract suites: fixed times from `now` and readable sequential ids,
 * so a failing assertion names its rows. Each suite makes its own set (ids count per set).
 */
export function contractRecords(now: number, codeScopes: string[] = ['tasks:read', 'tasks:write']) {
  let seq = 0;
  const id = (prefix: string): string => `${prefix}-${++seq}`;
  return {
    id,
    client: (over: Partial<ClientRecord> = {}): ClientRecord => clientRecord({ clientId: id('client'), source: 'dcr', createdAt: now, ...over }),
    grant: (over: Partial<GrantRecord> = {}): GrantRecord =>
      grantRecord({ id: id('grant'), userId: 'user-1', clientId: 'client-x', scopes: ['tasks:read'], resource: 'http://localhost/mcp', createdAt: now, ...over }),
    refresh: (grantId: string, over: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord => ({
      tokenHash: id('rt'),
      grantId,
      clientId: 'client-x',
      scopes: ['tasks:read'],
      issuedAt: now,
      expiresAt: now + 3_600_000,
      rotatedAt: null,
      successorHash: null,
      ...over,
    }),
    code: (over: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord => ({
      codeHash: id('code'),
      grantId: id('grant'),
      clientId: 'client-x',
      userId: 'user-1',
      redirectUri: 'http://127.0.0.1/callback',
      codeChallenge: 'c'.repeat(43),
      scopes: codeScopes,
      resource: 'http://localhost/mcp',
      nonce: null,
      authTime: now,
      issueRefreshToken: true,
      expiresAt: now + 60_000,
      ...over,
    }),
  };
}
