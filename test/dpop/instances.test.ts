import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { resolveConfig } from '../../src/config/resolve.ts';
import { KeyRing } from '../../src/keys/key-encryption.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import { openPostgresStorage } from '../../src/storage/postgres/open.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { serveOnLoopback } from '../gateway/helpers.ts';
import { initializeMessage, mcpHeaders } from '../mcp/wire.ts';
import { signIn } from '../resource/fixtures.ts';
import { assertDpopChallenge, craftProof, createDpopClientKey, dpopAuth } from './dpop-client.ts';

const url = process.env.DATABASE_URL;
const ORIGIN = 'https://mcp.example.com';

/**
 * RFC 9449 §11.1 across instances: three Portcullis instances on one PostgreSQL database, each on
 * its own loopback socket behind the same public URL. A proof is single use on all of them (the
 * shared replay store), and a nonce handed out by one is good at the others (§9, one key per database).
 */
describe('DPoP across three instances on one PostgreSQL database (RFC 9449 §11.1, §9)', { skip: url ? false : 'DATABASE_URL is not set' }, () => {
  const schema = `portcullis_test_${randomBytes(6).toString('hex')}`;
  const clock = new ManualClock(Date.now());
  const instances: Portcullis[] = [];
  const sockets: Awaited<ReturnType<typeof serveOnLoopback>>[] = [];

  before(async () => {
    const keyRing = KeyRing.ephemeral();
    for (let i = 0; i < 3; i++) {
      const instance = await createPortcullis({
        config: resolveConfig({ publicUrl: ORIGIN, database: ':memory:', dpopNonces: true }),
        storage: await openPostgresStorage(url!, { schema, keyRing, maxConnections: 2 }),
        clock,
        logger: createMemoryLogger(),
      });
      instances.push(instance);
      sockets.push(await serveOnLoopback(instance));
    }
  });

  after(async () => {
    for (const socket of sockets) await socket.close();
    for (const instance of instances) await instance.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  /** POST `initialize` to instance `i`, as a load balancer in front of the public URL would. */
  const send = (i: number, headers: Record<string, string>) =>
    fetch(sockets[i]!.mcpUrl, { method: 'POST', headers: mcpHeaders(headers), body: JSON.stringify(initializeMessage()) });

  it('a nonce from instance A is good at C; a proof accepted at A is refused when replayed at B and at C', async () => {
    const [a] = instances;
    const resource = a!.ctx.config.resource;
    const key = await createDpopClientKey();
    const { token } = await signIn(a!, { dpopJkt: key.jkt });

    const challenged = await send(0, dpopAuth(token, await craftProof(key, { htu: resource, accessToken: token })));
    const nonce = challenged.headers.get('DPoP-Nonce');
    await assertDpopChallenge(challenged, 'use_dpop_nonce');
    assert.ok(nonce);

    const proof = await craftProof(key, { htu: resource, accessToken: token, nonce });
    const accepted = await send(2, dpopAuth(token, proof));
    assert.equal(accepted.status, 200, 'nonce of A accepted at C');
    await accepted.body?.cancel();

    await assertDpopChallenge(await send(1, dpopAuth(token, proof)), 'invalid_dpop_proof');
    await assertDpopChallenge(await send(0, dpopAuth(token, proof)), 'invalid_dpop_proof');

    const fresh = await send(1, dpopAuth(token, await craftProof(key, { htu: resource, accessToken: token, nonce })));
    assert.equal(fresh.status, 200, 'a new proof is fine at B');
    await fresh.body?.cancel();
  });
});
