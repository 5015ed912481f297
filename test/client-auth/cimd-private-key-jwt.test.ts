import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createUser } from '../../src/identity/users.ts';
import { clientDocument, startDocumentServer, type DocumentServer } from '../cimd/document-server.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { authorizationRequestUrl, authorizeWithForms, createPkcePair, inProcessFetch } from '../helpers/oauth-flow.ts';
import { connectClient } from '../mcp/wire.ts';
import { ASSERTION_TYPE, clientAssertion, keyPair, postForm, type KeyPair } from './helpers.ts';

const REDIRECT_URI = 'http://127.0.0.1:8765/callback';
const USER = { username: 'carol', password: 'correct horse battery staple' };

/**
 * A client identified by a client ID metadata document (its `client_id` is the document's URL) that
 * declares `private_key_jwt` with its public keys, end to end: the user logs in and consents through
 * the real pages, then the client redeems the code authenticating with a signed assertion whose
 * `sub` is that URL (MCP AS-06, SEC-29, SEC-30). Without the assertion the code cannot be redeemed.
 */
describe('E2E a CIMD client authenticates with private_key_jwt', () => {
  let t: TestApp;
  let documents: DocumentServer;
  let key: KeyPair;
  let clientId: string;

  before(async () => {
    key = await keyPair('ES256');
    documents = await startDocumentServer();
    clientId = documents.serve('/oauth/client.json', (url) => ({
      body: clientDocument(url, { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } }),
    }));
    t = await createTestApp({ dangerouslyAllowPrivateNetworkFetches: true }, { fetch: globalThis.fetch });
    await createUser(t.storage, USER, { now: t.clock.now(), random: t.ctx.random });
  });
  after(async () => {
    await t.close();
    await documents.close();
  });

  async function authorize(): Promise<{ code: string; verifier: string }> {
    const pkce = createPkcePair();
    const callback = await authorizeWithForms({
      fetch: inProcessFetch(t.app),
      authorizationUrl: authorizationRequestUrl(t.origin, {
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
        state: 'st-1',
        scope: 'tasks:read',
        resource: t.ctx.config.resource,
      }),
      ...USER,
    });
    assert.equal(callback.searchParams.get('error'), null, callback.searchParams.get('error_description') ?? '');
    return { code: callback.searchParams.get('code')!, verifier: pkce.verifier };
  }

  it('SEC-29/AS-06 the code is redeemed with a client assertion signed by the key in the document; the token calls a tool', async () => {
    const { code, verifier } = await authorize();
    const res = await postForm(t, '/token', {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await clientAssertion(t, clientId, { key }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { access_token: string };
    assert.equal(decodeJwt(body.access_token).client_id, clientId);
    const { client } = await connectClient(t, body.access_token, 'modern');
    try {
      const result = (await client.callTool({ name: 'whoami', arguments: {} })) as { content: { text: string }[] };
      assert.equal((JSON.parse(result.content[0]!.text) as { username: string }).username, USER.username);
    } finally {
      await client.close();
    }
  });

  it('SEC-30 the same client cannot redeem a code as a public client, nor with an assertion signed by another key', async () => {
    const { code, verifier } = await authorize();
    const asPublic = await postForm(t, '/token', { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId });
    assert.equal(asPublic.status, 401);
    const stranger = await keyPair('ES256', key.kid);
    const forged = await postForm(t, '/token', {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await clientAssertion(t, clientId, { key: stranger }),
    });
    assert.equal(forged.status, 401);
    // The code is still good for its rightful client: failed authentication changed nothing.
    const rightful = await postForm(t, '/token', {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await clientAssertion(t, clientId, { key }),
    });
    assert.equal(rightful.status, 200);
  });
});
