import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { REFRESH_TOKEN_PREFIX } from '../../src/authorization/grants/refresh-secrets.ts';
import { hashPassword } from '../../src/identity/passwords.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import type { ClientRecord, Storage } from '../../src/storage/types.ts';
import { hashSecret } from '../../src/util/crypto.ts';

export const BENCH_PASSWORD = 'bench-password-0123';
/** Never contacted: the flows read the code from the Location header. */
export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const SCOPES = ['tasks:read', 'tasks:write'];

export interface BenchUser {
  id: string;
  username: string;
}

export interface Fixture {
  database: string;
  users: BenchUser[];
  /** The client every remembered-consent flow and the load tests use. */
  clientId: string;
  /** Clients no user has consented to yet: each first-time flow takes one. */
  freshClientIds: string[];
}

/**
 * A SQLite file with the bench's users (one password, hashed once) and public clients, written
 * through the storage contract before any server opens it.
 */
export async function createFixture(dir: string, counts: { users: number; freshClients: number }): Promise<Fixture> {
  const database = join(dir, 'portcullis.db');
  const storage = await openSqliteStorage(database);
  try {
    const passwordHash = await hashPassword(BENCH_PASSWORD);
    const users: BenchUser[] = [];
    for (let i = 0; i < counts.users; i++) {
      const user = { id: `usr_bench${i}`, username: `bench${i}` };
      await storage.users.create({ ...user, passwordHash, isAdmin: i === 0, createdAt: Date.now() });
      users.push(user);
    }
    const clientId = 'cl_bench';
    await storage.clients.create(publicClient(clientId));
    const freshClientIds: string[] = [];
    for (let i = 0; i < counts.freshClients; i++) {
      freshClientIds.push(`cl_fresh${i}`);
      await storage.clients.create(publicClient(`cl_fresh${i}`));
    }
    return { database, users, clientId, freshClientIds };
  } finally {
    await storage.close();
  }
}

function publicClient(clientId: string): ClientRecord {
  return {
    clientId,
    secretHash: null,
    clientName: `Bench ${clientId}`,
    redirectUris: [REDIRECT_URI],
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    tokenEndpointAuthMethod: 'none',
    applicationType: 'native',
    scope: null,
    clientUri: null,
    logoUri: null,
    metadataHash: null,
    source: 'cli',
    createdAt: Date.now(),
  };
}

/**
 * `count` live refresh tokens, each in its own grant (as after `count` separate logins), for the
 * refresh-grant load: every refresh rotates its token, so each can be used once. Written through
 * the storage contract, as the authorization-code grant writes them.
 */
export async function createRefreshTokens(database: string, options: { count: number; user: BenchUser; clientId: string; resource: string }): Promise<string[]> {
  const storage: Storage = await openSqliteStorage(database);
  try {
    const now = Date.now();
    const tokens: string[] = [];
    for (let i = 0; i < options.count; i++) {
      const token = REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
      const grantId = `gnt_bench_${randomBytes(12).toString('base64url')}`;
      await storage.grants.create({ id: grantId, userId: options.user.id, clientId: options.clientId, scopes: SCOPES, resource: options.resource, createdAt: now, expiresAt: now + 86_400_000, revokedAt: null });
      await storage.refreshTokens.create({ tokenHash: hashSecret(token), grantId, clientId: options.clientId, scopes: SCOPES, issuedAt: now, expiresAt: now + 86_400_000, rotatedAt: null, successorHash: null });
      tokens.push(token);
    }
    return tokens;
  } finally {
    await storage.close();
  }
}
