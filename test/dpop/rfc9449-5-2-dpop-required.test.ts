/**
 * DPoP required: for every client by the server (`dpopRequired`), or by a client's own registration
 * (RFC 9449 §5.2 `dpop_bound_access_tokens`, at dynamic registration or in a client ID metadata
 * document). A token request without a proof is then `invalid_dpop_proof`; with one it succeeds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { clientFromDocument } from '../../src/authorization/clients/metadata-document.ts';
import { createTestApp } from '../helpers/app.ts';
import { authorize, clientCredentials, confidentialClient, newKey, REDIRECT, redeemCode, refusedWith, startDpopServer, type DpopTestServer } from './harness.ts';

describe('RFC 9449 §5.2 dpop_bound_access_tokens: DPoP required by the client', () => {
  let server: DpopTestServer;
  before(async () => {
    server = await startDpopServer();
  });
  after(async () => {
    await server?.close();
  });

  const register = async (metadata: Record<string, unknown>) => {
    const response = await fetch(new URL('/register', server.origin), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'Bound Client', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], ...metadata }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('a client registered with dpop_bound_access_tokens: true gets it echoed, is refused without a proof, and served with one', async () => {
    const registered = await register({ dpop_bound_access_tokens: true });
    assert.equal(registered.status, 201);
    assert.equal(registered.body.dpop_bound_access_tokens, true);
    const client: oauth.Client = { client_id: registered.body.client_id as string, token_endpoint_auth_method: 'none' };

    const code = await authorize(server, client);
    assert.equal(await refusedWith(redeemCode(server, client, oauth.None(), code)), 'invalid_dpop_proof');
    const tokens = await redeemCode(server, client, oauth.None(), code, oauth.DPoP(client, (await newKey()).keyPair));
    assert.equal(tokens.token_type, 'dpop', 'the refusal left the code usable');
  });

  it('the same metadata without dpop_bound_access_tokens is another client, and a bearer one; a non-boolean value is refused', async () => {
    const bound = await register({ dpop_bound_access_tokens: true });
    const plain = await register({});
    assert.notEqual(plain.body.client_id, bound.body.client_id, 'an identical public registration is reused only when the DPoP requirement matches too');
    assert.equal(plain.body.dpop_bound_access_tokens, undefined);
    const wrong = await register({ dpop_bound_access_tokens: 'yes' });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_client_metadata');
  });

  it('a client ID metadata document with dpop_bound_access_tokens: true makes a client that must use DPoP', async () => {
    const app = await createTestApp({ clientIdMetadataDocuments: { enabled: true } });
    try {
      const url = 'https://app.example.com/client.json';
      const document = { client_id: url, client_name: 'Doc Client', redirect_uris: ['https://app.example.com/callback'], dpop_bound_access_tokens: true };
      assert.equal(clientFromDocument(app.ctx, url, document).dpopBoundAccessTokens, true);
      assert.equal(clientFromDocument(app.ctx, url, { ...document, dpop_bound_access_tokens: false }).dpopBoundAccessTokens, undefined);
    } finally {
      await app.close();
    }
  });
});

describe('dpopRequired: DPoP required by the server', () => {
  let server: DpopTestServer;
  before(async () => {
    server = await startDpopServer({ dpopRequired: true });
  });
  after(async () => {
    await server?.close();
  });

  it('a bearer token request is refused with invalid_dpop_proof, the same request with a proof succeeds', async () => {
    const { client, auth } = await confidentialClient(server, ['client_credentials']);
    assert.equal(await refusedWith(clientCredentials(server, client, auth)), 'invalid_dpop_proof');
    assert.equal((await clientCredentials(server, client, auth, oauth.DPoP(client, (await newKey()).keyPair))).token_type, 'dpop');
  });
});
