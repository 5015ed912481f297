/**
 * RFC 9449 §8: server nonces at the token endpoint (`dpopNonces`). A first proof without a nonce gets
 * `use_dpop_nonce` and a nonce in `DPoP-Nonce`; oauth4webapi retries with it, as a client library
 * does, and succeeds; every answer carries a fresh nonce so the next request needs no round trip.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { authorize, claimsOf, clientCredentials, confidentialClient, handProof, INSECURE, newKey, publicClient, rawClientCredentials, redeemCode, refreshWith, startDpopServer, withNonceRetry, type DpopTestServer } from './harness.ts';

describe('RFC 9449 §8 server nonces at the token endpoint', () => {
  let server: DpopTestServer;
  before(async () => {
    server = await startDpopServer({ dpopNonces: true });
  });
  after(async () => {
    await server?.close();
  });

  it('a proof without a nonce gets 400 use_dpop_nonce with DPoP-Nonce; the retry with it succeeds and gets the next nonce', async () => {
    const { client, auth } = await confidentialClient(server, ['client_credentials']);
    const DPoP = oauth.DPoP(client, (await newKey()).keyPair);
    const first = await oauth.clientCredentialsGrantRequest(server.as, client, auth, {}, { ...INSECURE, DPoP });
    assert.equal(first.status, 400);
    const nonce = first.headers.get('DPoP-Nonce');
    assert.ok(nonce, 'the refusal carries a nonce');
    await assert.rejects(oauth.processClientCredentialsResponse(server.as, client, first), (error: unknown) => oauth.isDPoPNonceError(error));

    const retry = await oauth.clientCredentialsGrantRequest(server.as, client, auth, {}, { ...INSECURE, DPoP });
    assert.equal(retry.status, 200);
    assert.ok(retry.headers.get('DPoP-Nonce'), 'a success carries the nonce to use next');
    const tokens = await oauth.processClientCredentialsResponse(server.as, client, retry);
    assert.equal(tokens.token_type, 'dpop');
  });

  it('a public client\'s code flow and refresh complete with the library\'s nonce retry, bound to its key', async () => {
    const client = await publicClient(server);
    const key = await newKey();
    const DPoP = oauth.DPoP(client, key.keyPair);
    const code = await authorize(server, client);
    const tokens = await withNonceRetry(() => redeemCode(server, client, oauth.None(), code, DPoP));
    assert.equal(claimsOf(tokens.access_token).cnf?.jkt, key.jkt);
    // The handle kept the nonce from the last answer: the refresh goes through first time.
    const refreshed = await refreshWith(server, client, oauth.None(), tokens.refresh_token!, DPoP);
    assert.equal(claimsOf(refreshed.access_token).cnf?.jkt, key.jkt);
  });

  it('a made-up nonce is refused with use_dpop_nonce and a real one to retry with', async () => {
    const client = await confidentialClient(server, ['client_credentials']);
    const response = await rawClientCredentials(server, client, await handProof(await newKey(), { htu: server.as.token_endpoint, nonce: 'abc.' + 'A'.repeat(22) }));
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'use_dpop_nonce');
    assert.match(response.headers.get('DPoP-Nonce') ?? '', /^[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
  });

  it('a browser client may send DPoP and read DPoP-Nonce across origins (CORS on /token)', async () => {
    const origin = 'https://app.example';
    const preflight = await fetch(new URL('/token', server.origin), { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('Access-Control-Allow-Headers') ?? '', /(^|, )DPoP(,|$)/);
    const client = await confidentialClient(server, ['client_credentials']);
    const answer = await rawClientCredentials(server, client, null, { Origin: origin });
    assert.ok(answer.headers.get('DPoP-Nonce'));
    assert.match(answer.headers.get('Access-Control-Expose-Headers') ?? '', /DPoP-Nonce/);
  });

  it('bearer requests are not asked for a nonce, but are still told the current one', async () => {
    const { client, auth } = await confidentialClient(server, ['client_credentials']);
    const response = await oauth.clientCredentialsGrantRequest(server.as, client, auth, {}, INSECURE);
    assert.equal(response.status, 200);
    assert.ok(response.headers.get('DPoP-Nonce'));
    assert.equal((await oauth.processClientCredentialsResponse(server.as, client, response)).token_type, 'bearer');
    assert.equal((await clientCredentials(server, client, auth)).token_type, 'bearer', 'and again: no nonce is ever asked of them');
  });
});
