/**
 * RFC 9449 §11.1 end to end across three instances: three Portcullis on one PostgreSQL database, each
 * on its own loopback socket behind one public URL, and the official MCP SDK client with its own DPoP
 * in front of them. The client's fetch plays the load balancer: it sends each request to the instance
 * the test names, so the client signs in through A, calls tools on B and refreshes on C, all under the
 * one public URL its proofs name. Server nonces are on: a nonce from one instance is good at another.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DpopSession } from '@modelcontextprotocol/client';
import pg from 'pg';
import { KeyRing } from '../../src/keys/key-encryption.ts';
import { openPostgresStorage } from '../../src/storage/postgres/open.ts';
import { E2E_USER, startRealServer, type RealServer } from '../helpers/e2e.ts';
import { initializeMessage, mcpHeaders } from '../mcp/wire.ts';
import { assertDpopChallenge } from './dpop-client.ts';
import { SdkClient } from './sdk-client.ts';

const url = process.env.DATABASE_URL;
const PUBLIC_URL = 'https://mcp.example.com';
const ACCESS_TOKEN_TTL = 60;

describe('RFC 9449 §11.1 the MCP SDK client across three instances on one PostgreSQL database', { skip: url ? false : 'DATABASE_URL is not set' }, () => {
  const schema = `portcullis_test_${randomBytes(6).toString('hex')}`;
  const instances: RealServer[] = [];
  /** Which instance the load balancer sends the next requests to. */
  let target = 0;
  let session: DpopSession;
  let sdk: SdkClient;

  before(async () => {
    const keyRing = KeyRing.ephemeral();
    for (let i = 0; i < 3; i++) {
      const storage = await openPostgresStorage(url!, { schema, keyRing, maxConnections: 2 });
      instances.push(await startRealServer({ publicUrl: PUBLIC_URL, accessTokenTtl: ACCESS_TOKEN_TTL, dpopNonces: true }, { storage }));
    }
    session = await DpopSession.create();
    sdk = new SdkClient(`${PUBLIC_URL}/mcp`, { dpop: session, route: () => instances[target]!.origin });
  });

  after(async () => {
    await sdk.client?.close().catch(() => {});
    await Promise.all(instances.map((s) => s.close()));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  const servedBy = (i: number, from: number) => sdk.exchanges.slice(from).every((e) => e.servedBy === instances[i]!.origin);

  it('signs in through instance A: discovery, registration, login, consent and a DPoP token for the public URL', async () => {
    target = 0;
    await sdk.signIn();
    assert.ok(servedBy(0, 0), sdk.trace());
    assert.equal(sdk.provider.tokenSet?.token_type.toLowerCase(), 'dpop');
    assert.equal(sdk.claims.cnf?.jkt, session.thumbprint);
    assert.ok(sdk.exchanges.some((e) => e.url.href === `${PUBLIC_URL}/mcp` && e.status === 200), 'A served the MCP endpoint too');
  });

  it('calls tools on instance B with the token and nonce A issued', async () => {
    target = 1;
    const from = sdk.exchanges.length;
    const names = (await sdk.client!.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('whoami'));
    assert.equal((await sdk.whoami())['username'], E2E_USER.username);
    assert.ok(servedBy(1, from), sdk.trace());
    assert.ok(sdk.exchanges.slice(from).every((e) => e.status === 200), `no challenge at B: A's nonce is good there\n${sdk.trace()}`);
  });

  it('RFC 9449 §11.1: a proof A accepted is refused when replayed to B and to C', async () => {
    const accepted = sdk.exchanges.find((e) => e.servedBy === instances[0]!.origin && e.url.pathname === '/mcp' && e.status === 200);
    assert.ok(accepted?.proof && accepted.authorization, sdk.trace());
    for (const other of [instances[1]!, instances[2]!]) {
      const replay = await fetch(`${other.origin}/mcp`, {
        method: 'POST',
        headers: mcpHeaders({ Authorization: accepted.authorization, DPoP: accepted.proof }),
        body: JSON.stringify(initializeMessage()),
      });
      await assertDpopChallenge(replay, 'invalid_dpop_proof');
    }
  });

  it('refreshes on instance C once the access token expires, with a proof, and calls again there', async () => {
    for (const instance of instances) instance.clock.advance((ACCESS_TOKEN_TTL + 1) * 1000);
    target = 2;
    const from = sdk.exchanges.length;
    const token = sdk.accessToken;
    assert.equal((await sdk.whoami())['username'], E2E_USER.username);
    assert.ok(servedBy(2, from), sdk.trace());
    const refreshed = sdk.exchanges.slice(from).find((e) => e.url.pathname === '/token' && e.status === 200);
    assert.ok(refreshed?.proof, sdk.trace());
    assert.equal(new URLSearchParams(refreshed.body).get('grant_type'), 'refresh_token');
    assert.notEqual(sdk.accessToken, token);
    assert.equal(sdk.claims.cnf?.jkt, session.thumbprint);
    assert.equal(sdk.provider.authorizationUrls.length, 1, 'one sign-in in all');
  });
});
