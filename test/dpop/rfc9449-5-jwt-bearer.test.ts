/**
 * RFC 9449 §5 for the JWT bearer grant with an ID-JAG (enterprise-managed authorization): the token
 * the enterprise IdP's assertion is exchanged for is bound to the client's DPoP key like any other.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { JWT_BEARER, keyPair, signJwt, type KeyPair } from '../client-auth/helpers.ts';
import { claimsOf, confidentialClient, INSECURE, newKey, startDpopServer, type DpopTestServer } from './harness.ts';

const IDP = 'https://sso.corp.example';

describe('RFC 9449 §5 the jwt-bearer (ID-JAG) grant with DPoP', () => {
  let server: DpopTestServer;
  let idp: KeyPair;
  before(async () => {
    idp = await keyPair('ES256');
    server = await startDpopServer({ trustedIdentityProviders: [{ issuer: IDP, jwks: { keys: [idp.publicJwk] } }] });
  });
  after(async () => {
    await server?.close();
  });

  it('an ID-JAG exchanged with a proof yields a DPoP-bound token; without one, a bearer token', async () => {
    const { client, auth } = await confidentialClient(server, [JWT_BEARER]);
    const { config } = server.portcullis.ctx;
    const exchange = async (DPoP?: oauth.DPoPHandle) => {
      const assertion = await signJwt(
        { iss: IDP, sub: 'employee-7', aud: config.issuer, client_id: client.client_id, resource: config.resource, scope: 'tasks:read' },
        { key: idp, header: { typ: 'oauth-id-jag+jwt' }, now: server.clock.now() },
      );
      const response = await oauth.genericTokenEndpointRequest(server.as, client, auth, JWT_BEARER, { assertion }, { ...INSECURE, ...(DPoP ? { DPoP } : {}) });
      return oauth.processGenericTokenEndpointResponse(server.as, client, response);
    };
    const key = await newKey();
    const bound = await exchange(oauth.DPoP(client, key.keyPair));
    assert.equal(bound.token_type, 'dpop');
    assert.equal(claimsOf(bound.access_token).cnf?.jkt, key.jkt);
    const bearer = await exchange();
    assert.equal(bearer.token_type, 'bearer');
    assert.equal(claimsOf(bearer.access_token).cnf, undefined);
  });
});
