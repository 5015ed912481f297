import { randomBytes } from 'node:crypto';
import type { ClientRecord, GrantRecord, UserRecord } from '../../src/storage/types.ts';

/**
 * Storage records as the server writes them, for tests that put rows in place directly. Each builder
 * gives a valid, ordinary record (a public native client, a live grant, a plain user); a test names
 * only what it is about in `over`. Ids are random so records never collide within one database.
 */
const id = (prefix: string): string => prefix + randomBytes(12).toString('base64url');

/** A public (`none`) native client for the authorization code grant, registered with the CLI. */
export function clientRecord(over: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: id('cl_'),
    secretHash: null,
    clientName: 'Test Client',
    redirectUris: ['http://127.0.0.1/callback'],
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
    ...over,
  };
}

/** A grant live for a day from `createdAt`; `userId`, `clientId`, `resource` and `scopes` are the test's. */
export function grantRecord(over: Pick<GrantRecord, 'userId' | 'clientId' | 'resource' | 'scopes'> & Partial<GrantRecord>): GrantRecord {
  const createdAt = over.createdAt ?? Date.now();
  return { id: id('grt_'), createdAt, expiresAt: createdAt + 86_400_000, revokedAt: null, ...over };
}

/** A user whose password is never checked (the tests sign in through tokens, not the login page). */
export function userRecord(over: Partial<UserRecord> = {}): UserRecord {
  return { id: id('usr_'), username: 'user-' + randomBytes(4).toString('hex'), passwordHash: 'unused', isAdmin: false, createdAt: Date.now(), ...over };
}
