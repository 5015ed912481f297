import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { clientDocument, startDocumentServer, type DocumentServer } from '../cimd/document-server.ts';
import { ASSERTION_TYPE, clientAssertion, JWT_BEARER, keyPair, postForm, signJwt, type KeyPair } from '../client-auth/helpers.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const IDP = 'https://sso.corp.example';

/**
 * EMA-02: the client exchanging an ID-JAG may be a CIMD client that authenticates with
 * private_key_jwt; the ID-JAG's client_id is then its metadata document URL.
 */
describe('ID-JAG exchanged by a CIMD client with private_key_jwt', () => {
  let t: TestApp;
  let documents: DocumentServer;
  let clientKey: KeyPair;
  let idp: KeyPair;
  let clientId: string;
  let publicClientId: string;

  before(async () => {
    clientKey = await keyPair('ES256');
    idp = await keyPair('ES256');
    documents = await startDocumentServer();
    clientId = documents.serve('/agent.json', (url) => ({
      body: clientDocument(url, { grant_types: ['authorization_code', JWT_BEARER], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [clientKey.publicJwk] } }),
    }));
    publicClientId = documents.serve('/public-agent.json', (url) => ({ body: clientDocument(url, { grant_types: ['authorization_code', JWT_BEARER] }) }));
    t = await createTestApp(
      { dangerouslyAllowPrivateNetworkFetches: true, trustedIdentityProviders: [{ issuer: IDP, jwks: { keys: [idp.publicJwk] } }] },
      { fetch: globalThis.fetch },
    );
  });
  after(async () => {
    await t.close();
    await documents.close();
  });

  const idJag = (forClient: string) =>
    signJwt(
      { iss: IDP, sub: 'u-77', aud: t.ctx.config.issuer, client_id: forClient, resource: t.ctx.config.resource, scope: 'tasks:read' },
      { key: idp, header: { typ: 'oauth-id-jag+jwt' }, now: t.clock.now() },
    );

  it('EMA-02 the CIMD client authenticates with its key and receives a token', async () => {
    const res = await postForm(t, '/token', {
      grant_type: JWT_BEARER,
      assertion: await idJag(clientId),
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await clientAssertion(t, clientId, { key: clientKey }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(decodeJwt(((await res.json()) as { access_token: string }).access_token).client_id, clientId);
  });

  it('EMA-02 a public CIMD client cannot use the grant (its document is refused)', async () => {
    const res = await postForm(t, '/token', { grant_type: JWT_BEARER, assertion: await idJag(publicClientId), client_id: publicClientId });
    assert.ok(res.status === 400 || res.status === 401, String(res.status));
    assert.ok(['unauthorized_client', 'invalid_client'].includes(((await res.json()) as { error: string }).error));
  });
});
