/**
 * RFC 9449 §10: `dpop_jkt` at /authorize binds the authorization code to a key. Only a token request
 * with a proof by that key redeems it; any other attempt is refused and leaves the code usable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { authorizationRequestUrl, authorizeWithForms, createPkcePair } from '../helpers/oauth-flow.ts';
import { E2E_USER } from '../helpers/e2e.ts';
import { authorize, claimsOf, newKey, publicClient, REDIRECT, redeemCode, refusedWith, startDpopServer, type DpopTestServer } from './harness.ts';

describe('RFC 9449 §10 dpop_jkt binds the authorization code', () => {
  let server: DpopTestServer;
  before(async () => {
    server = await startDpopServer();
  });
  after(async () => {
    await server?.close();
  });

  it('the code is redeemed only with a proof by the named key; another key or none is refused and changes nothing', async () => {
    const client = await publicClient(server);
    const key = await newKey();
    const other = await newKey();
    const code = await authorize(server, client, { dpop_jkt: key.jkt });

    assert.equal(await refusedWith(redeemCode(server, client, oauth.None(), code, oauth.DPoP(client, other.keyPair))), 'invalid_grant');
    assert.equal(await refusedWith(redeemCode(server, client, oauth.None(), code)), 'invalid_dpop_proof');
    const tokens = await redeemCode(server, client, oauth.None(), code, oauth.DPoP(client, key.keyPair));
    assert.equal(tokens.token_type, 'dpop');
    assert.equal(claimsOf(tokens.access_token).cnf?.jkt, key.jkt);
  });

  it('a dpop_jkt that is not a JWK SHA-256 thumbprint is an invalid_request sent back to the client', async () => {
    const client = await publicClient(server);
    const pkce = createPkcePair();
    const callback = await authorizeWithForms({
      fetch: globalThis.fetch,
      authorizationUrl: authorizationRequestUrl(server.origin, {
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: REDIRECT,
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
        state: 'st',
        dpop_jkt: 'not a thumbprint',
      }),
      ...E2E_USER,
    });
    assert.equal(callback.origin + callback.pathname, REDIRECT);
    assert.equal(callback.searchParams.get('error'), 'invalid_request');
    assert.match(callback.searchParams.get('error_description') ?? '', /dpop_jkt/);
    assert.equal(callback.searchParams.get('state'), 'st');
  });
});
