import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import type { ClientRecord } from '../../src/storage/types.ts';
import { clientRecord } from '../helpers/records.ts';
import { runCli, tempDatabase } from './helpers.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const client = (clientId: string, source: 'dcr' | 'cli', createdAt: number): ClientRecord =>
  clientRecord({ clientId, clientName: clientId, redirectUris: ['http://127.0.0.1/cb'], grantTypes: ['authorization_code'], source, createdAt });

describe('portcullis clients prune', () => {
  const db = tempDatabase();
  after(() => db.cleanup());

  it('HARD-7 removes self-registered clients unused past registration.unusedClientTtl or idle past idleClientTtl; never operator clients', async () => {
    const now = Date.now();
    const storage = await openSqliteStorage(db.database);
    try {
      await storage.clients.create(client('cl_unused_old', 'dcr', now - 3 * HOUR));
      await storage.clients.create(client('cl_unused_new', 'dcr', now - 10 * 60_000));
      await storage.clients.create(client('cl_idle', 'dcr', now - 100 * DAY));
      await storage.grants.create({ id: 'gnt_old', userId: 'u', clientId: 'cl_idle', scopes: [], resource: 'r', createdAt: now - 90 * DAY, expiresAt: now - 80 * DAY, revokedAt: null });
      await storage.clients.create(client('cl_active', 'dcr', now - 100 * DAY));
      await storage.grants.create({ id: 'gnt_live', userId: 'u', clientId: 'cl_active', scopes: [], resource: 'r', createdAt: now - 90 * DAY, expiresAt: now + DAY, revokedAt: null });
      await storage.clients.create(client('cl_operator', 'cli', now - 400 * DAY));
    } finally {
      await storage.close();
    }

    const r = await runCli(['clients', 'prune'], { PORTCULLIS_DATABASE: db.database, PORTCULLIS_REGISTRATION_UNUSED_CLIENT_TTL: '3600' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Removed 2 unused or idle self-registered clients.\n');

    const after = await openSqliteStorage(db.database);
    try {
      const left = (await after.clients.list()).map((c) => c.clientId).sort();
      assert.deepEqual(left, ['cl_active', 'cl_operator', 'cl_unused_new']);
      assert.equal(await after.grants.get('gnt_old'), null, 'what was issued to a removed client goes with it');
    } finally {
      await after.close();
    }
    const again = await runCli(['clients', 'prune'], { PORTCULLIS_DATABASE: db.database });
    assert.equal(again.stdout, 'Removed 0 unused or idle self-registered clients.\n');
  });

  it('HARD-7 clients prune is listed in --help', async () => {
    const r = await runCli(['--help'], {});
    assert.match(r.stdout, /clients prune\s+Remove self-registered clients that are unused or idle/);
  });
});
