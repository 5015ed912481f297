import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVICTION_MIN_AGE_MS } from '../../src/authorization/clients/client-expiry.ts';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../helpers/app.ts';
import { PUBLIC_CLIENT } from './helpers.ts';

/** A registration from `address`, as it arrives through @hono/node-server. */
async function register(t: TestApp, address: string, name: string): Promise<Response> {
  const body = JSON.stringify({ ...PUBLIC_CLIENT, client_name: name });
  const request = new Request(`${TEST_ORIGIN}/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  return t.app.fetch(request, { incoming: { socket: { remoteAddress: address } } });
}

const MINUTE = 60_000;

describe('HARD-7 registration under a flood', () => {
  it('HARD-7 SEC-48 a slow flood of unused registrations never locks out new MCP clients, and the table stays at the cap', async () => {
    const cap = 50;
    const t = await createTestApp({ registration: { enabled: true, perMinute: 20, maxClients: cap } });
    try {
      // A registration every 15 seconds for five hours: 1,200 registrations, 24 times the cap (at the
      // default cap of 10,000 the same holds for floods below 1,000 a minute, 50 addresses at the rate
      // limit); a real client registers every 10 minutes, from elsewhere. Before HARD-7 every
      // registration after the 50th was refused, for good.
      let flood = { accepted: 0, refused: 0 };
      let real = { accepted: 0, refused: 0 };
      for (let i = 0; i < 1200; i++) {
        t.clock.advance(15_000);
        const res = await register(t, `198.51.100.${i % 4}`, `flood ${i}`);
        flood = res.status === 201 ? { ...flood, accepted: flood.accepted + 1 } : { ...flood, refused: flood.refused + 1 };
        if (i % 40 === 39) {
          const ok = await register(t, '192.0.2.1', `real client ${i}`);
          real = ok.status === 201 ? { ...real, accepted: real.accepted + 1 } : { ...real, refused: real.refused + 1 };
        }
      }
      assert.deepEqual(real, { accepted: 30, refused: 0 }, 'every real client got in');
      assert.equal(flood.refused, 0, 'the flood only ever evicted its own old, unused registrations');
      assert.ok((await t.storage.clients.count('dcr')) <= cap, 'the table never grew past the cap');
    } finally {
      await t.close();
    }
  });

  it('HARD-7 at the cap, clients that completed an authorization are never evicted: then, and only then, 503', async () => {
    const t = await createTestApp({ registration: { enabled: true, perMinute: 100, maxClients: 3 } });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(((await (await register(t, '192.0.2.1', `used ${i}`)).json()) as { client_id: string }).client_id);
      const now = t.clock.now();
      for (const clientId of ids) {
        await t.storage.grants.create({ id: `gnt_${clientId}`, userId: 'u', clientId, scopes: ['tasks:read'], resource: t.ctx.config.resource, createdAt: now, expiresAt: now + 86_400_000, revokedAt: null });
      }
      t.clock.advance(EVICTION_MIN_AGE_MS + MINUTE);
      const full = await register(t, '192.0.2.1', 'one too many');
      assert.equal(full.status, 503);
      assert.equal(((await full.json()) as { error: string }).error, 'temporarily_unavailable');
      for (const clientId of ids) assert.notEqual(await t.storage.clients.get(clientId), null);
    } finally {
      await t.close();
    }
  });

  it('HARD-7 a young unused client is not evicted: it may be in its first authorization', async () => {
    const t = await createTestApp({ registration: { enabled: true, perMinute: 100, maxClients: 2 } });
    try {
      const first = ((await (await register(t, '192.0.2.1', 'first')).json()) as { client_id: string }).client_id;
      await register(t, '192.0.2.1', 'second');
      t.clock.advance(MINUTE);
      assert.equal((await register(t, '192.0.2.1', 'third')).status, 503, 'nobody is old enough to make room');
      t.clock.advance(EVICTION_MIN_AGE_MS);
      assert.equal((await register(t, '192.0.2.1', 'third')).status, 201);
      assert.equal(await t.storage.clients.get(first), null, 'the oldest unused client made room');
    } finally {
      await t.close();
    }
  });
});
