/**
 * RFC 9449 §11.1 and §8 across three instances on one PostgreSQL database, each on its own loopback
 * socket behind one public URL (a load balancer): a proof spent at one instance's token endpoint is
 * refused at the others; a nonce one instance hands out is accepted by another; a public client's
 * code redeemed at one instance is refreshed at another only with its key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import pg from 'pg';
import { KeyRing } from '../../src/keys/key-encryption.ts';
import { openPostgresStorage } from '../../src/storage/postgres/open.ts';
import { authorize, claimsOf, clientCredentials, confidentialClient, handProof, newKey, publicClient, rawClientCredentials, redeemCode, refreshWith, refusedWith, startDpopServer, through, withNonceRetry, type DpopTestServer } from './harness.ts';

const url = process.env.DATABASE_URL;
const PUBLIC_URL = 'https://mcp.example.com';

describe('RFC 9449 §11.1 three instances on one PostgreSQL database', { skip: url ? false : 'DATABASE_URL is not set' }, () => {
  const schema = `portcullis_test_${randomBytes(6).toString('hex')}`;
  let instances: DpopTestServer[] = [];

  before(async () => {
    const keyRing = KeyRing.ephemeral();
    for (let i = 0; i < 3; i++) {
      const storage = await openPostgresStorage(url!, { schema, keyRing, maxConnections: 2 });
      instances.push(await startDpopServer({ publicUrl: PUBLIC_URL, dpopNonces: true }, { storage }));
    }
  });

  after(async () => {
    await Promise.all(instances.map((s) => s.close()));
    instances = [];
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  it('a proof spent at one instance is refused at both others', async () => {
    const [a, b, c] = instances as [DpopTestServer, DpopTestServer, DpopTestServer];
    const client = await confidentialClient(a, ['client_credentials']);
    const key = await newKey();
    // A nonce from instance A, then one proof carrying it.
    const challenge = await rawClientCredentials(a, client, await handProof(key, { htu: `${PUBLIC_URL}/token` }));
    assert.equal(((await challenge.json()) as { error: string }).error, 'use_dpop_nonce');
    const proof = await handProof(key, { htu: `${PUBLIC_URL}/token`, nonce: challenge.headers.get('DPoP-Nonce') });

    const first = await rawClientCredentials(a, client, proof);
    assert.equal(first.status, 200);
    for (const other of [b, c]) {
      const replay = await rawClientCredentials(other, client, proof);
      assert.equal(replay.status, 400);
      assert.equal(((await replay.json()) as { error: string }).error, 'invalid_dpop_proof');
    }
  });

  it('a nonce handed out by one instance is accepted by another (oauth4webapi, one DPoP handle)', async () => {
    const [a, b] = instances as [DpopTestServer, DpopTestServer];
    const { client, auth } = await confidentialClient(a, ['client_credentials']);
    const DPoP = oauth.DPoP(client, (await newKey()).keyPair);
    await assert.rejects(clientCredentials(a, client, auth, DPoP, through(a)), (error: unknown) => oauth.isDPoPNonceError(error));
    assert.equal((await clientCredentials(b, client, auth, DPoP, through(b))).token_type, 'dpop');
  });

  it('a public client\'s code redeemed at one instance refreshes at another with its key only', async () => {
    const [a, b, c] = instances as [DpopTestServer, DpopTestServer, DpopTestServer];
    const client = await publicClient(a);
    const key = await newKey();
    const DPoP = oauth.DPoP(client, key.keyPair);
    const code = await authorize(a, client);
    const tokens = await withNonceRetry(() => redeemCode(b, client, oauth.None(), code, DPoP, through(b)));
    assert.equal(claimsOf(tokens.access_token).cnf?.jkt, key.jkt);

    const refresh = async (handle: oauth.DPoPHandle) => refreshWith(c, client, oauth.None(), tokens.refresh_token!, handle, through(c));
    const thief = oauth.DPoP(client, (await newKey()).keyPair);
    // After its nonce retry, the thief's refusal is about the key.
    assert.equal(await refusedWith(withNonceRetry(() => refresh(thief))), 'invalid_grant');
    assert.equal(claimsOf((await refresh(DPoP)).access_token).cnf?.jkt, key.jkt);
  });
});
