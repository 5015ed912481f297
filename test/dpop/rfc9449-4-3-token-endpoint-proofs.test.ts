/**
 * RFC 9449 §4.3 and §11.1 as the token endpoint applies them, with hand-made proofs a well-behaved
 * client library never sends: a replay, another endpoint's `htu`, another method's `htm`, a stale
 * `iat`. Each is refused with `invalid_dpop_proof` and no token. Then the server behind a proxy: the
 * proof names the public URL, which is what counts, not the socket the request arrived on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PROOF_MAX_AGE_S } from '../../src/dpop/proof.ts';
import { claimsOf, confidentialClient, handProof, newKey, rawClientCredentials, startDpopServer, type DpopTestServer } from './harness.ts';

const errorOf = async (response: Response): Promise<string> => ((await response.json()) as { error: string }).error;

describe('RFC 9449 §4.3 proof checks at the token endpoint', () => {
  let server: DpopTestServer;
  let tokenUrl: string;
  before(async () => {
    server = await startDpopServer();
    tokenUrl = server.as.token_endpoint!;
  });
  after(async () => {
    await server?.close();
  });

  it('§11.1 a proof is accepted once: the same proof again is refused', async () => {
    const client = await confidentialClient(server, ['client_credentials']);
    const proof = await handProof(await newKey(), { htu: tokenUrl });
    const first = await rawClientCredentials(server, client, proof);
    assert.equal(first.status, 200);
    assert.equal(((await first.json()) as { token_type: string }).token_type, 'DPoP');
    const replay = await rawClientCredentials(server, client, proof);
    assert.equal(replay.status, 400);
    assert.equal(await errorOf(replay), 'invalid_dpop_proof');
  });

  it('§4.3 items 8 and 9: a proof for another method or another URL is refused', async () => {
    const client = await confidentialClient(server, ['client_credentials']);
    const key = await newKey();
    for (const claims of [{ htu: tokenUrl, htm: 'GET' }, { htu: new URL('/revoke', tokenUrl).href }, { htu: new URL('/token', 'https://elsewhere.example').href }]) {
      const response = await rawClientCredentials(server, client, await handProof(key, claims));
      assert.equal(response.status, 400, JSON.stringify(claims));
      assert.equal(await errorOf(response), 'invalid_dpop_proof');
    }
  });

  it('§4.3 item 11: a proof made longer ago than the window allows is refused, one just inside it accepted', async () => {
    const client = await confidentialClient(server, ['client_credentials']);
    const key = await newKey();
    const now = Math.floor(server.clock.now() / 1000);
    const stale = await rawClientCredentials(server, client, await handProof(key, { htu: tokenUrl, iat: now - PROOF_MAX_AGE_S - 5 }));
    assert.equal(stale.status, 400);
    assert.equal(await errorOf(stale), 'invalid_dpop_proof');
    const recent = await rawClientCredentials(server, client, await handProof(key, { htu: tokenUrl, iat: now - PROOF_MAX_AGE_S + 30 }));
    assert.equal(recent.status, 200);
  });

  it('§4.3 a proof whose signature is not by its own key, or that is not one JWS, is refused', async () => {
    const client = await confidentialClient(server, ['client_credentials']);
    const [signed, other] = [await handProof(await newKey(), { htu: tokenUrl }), await handProof(await newKey(), { htu: tokenUrl })];
    const [header, payload] = signed.split('.');
    const forged = `${header}.${payload}.${other.split('.')[2]}`;
    for (const proof of [forged, `${signed}, ${other}`, 'not-a-jwt']) {
      const response = await rawClientCredentials(server, client, proof);
      assert.equal(response.status, 400);
      assert.equal(await errorOf(response), 'invalid_dpop_proof');
    }
  });
});

describe('RFC 9449 §4.3 item 9 behind a proxy: htu is the token endpoint as published', () => {
  let server: DpopTestServer;
  before(async () => {
    server = await startDpopServer({ publicUrl: 'https://auth.example.com' });
  });
  after(async () => {
    await server?.close();
  });

  it('a proof for the public token endpoint is accepted on the socket behind the proxy; one naming the socket is not', async () => {
    assert.equal(server.as.token_endpoint, 'https://auth.example.com/token');
    const client = await confidentialClient(server, ['client_credentials']);
    const key = await newKey();
    const published = await rawClientCredentials(server, client, await handProof(key, { htu: 'https://auth.example.com/token' }));
    assert.equal(published.status, 200);
    assert.equal(claimsOf(((await published.json()) as { access_token: string }).access_token).cnf?.jkt, key.jkt);
    const internal = await rawClientCredentials(server, client, await handProof(key, { htu: new URL('/token', server.origin).href }));
    assert.equal(internal.status, 400);
    assert.equal(await errorOf(internal), 'invalid_dpop_proof');
  });
});
