/**
 * RFC 9449 §5 and §6 at the token endpoint, driven by oauth4webapi's DPoP support against a real
 * server over loopback: the code flow and refresh of a public client, a confidential client's
 * refresh and client_credentials, bearer clients beside DPoP ones, and introspection of bound tokens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { DPOP_ALGORITHMS } from '../../src/dpop/proof.ts';
import { authorize, claimsOf, clientCredentials, confidentialClient, INSECURE, newKey, publicClient, redeemCode, refreshWith, refusedWith, startDpopServer, type DpopTestServer } from './harness.ts';

describe('RFC 9449 §5 DPoP at the token endpoint (oauth4webapi over loopback)', () => {
  let server: DpopTestServer;
  before(async () => {
    server = await startDpopServer();
  });
  after(async () => {
    await server?.close();
  });

  const codeFlow = async (client: oauth.Client, auth: oauth.ClientAuth, DPoP?: oauth.DPoPHandle) => redeemCode(server, client, auth, await authorize(server, client), DPoP);
  const refresh = async (client: oauth.Client, auth: oauth.ClientAuth, refreshToken: string, DPoP?: oauth.DPoPHandle) => refreshWith(server, client, auth, refreshToken, DPoP);

  it('§5.1 metadata lists dpop_signing_alg_values_supported: what the proofs are checked against, asymmetric only', () => {
    const algs: readonly string[] = server.as.dpop_signing_alg_values_supported ?? [];
    assert.deepEqual(algs, [...DPOP_ALGORITHMS] as string[]);
    for (const alg of ['ES256', 'Ed25519', 'RS256']) assert.ok(algs.includes(alg), `${alg}: what oauth4webapi signs with for P-256, Ed25519 and RSA keys`);
    assert.ok(!algs.some((alg) => alg.startsWith('HS') || alg === 'none'));
  });

  it('SEC-42 §5 a public client completes the code flow with DPoP: token_type DPoP, cnf.jkt names its key, and it refreshes with the same key', async () => {
    const client = await publicClient(server);
    const key = await newKey();
    const tokens = await codeFlow(client, oauth.None(), oauth.DPoP(client, key.keyPair));
    assert.equal(tokens.token_type, 'dpop');
    assert.equal(claimsOf(tokens.access_token).cnf?.jkt, key.jkt);
    assert.ok(tokens.refresh_token);

    const refreshed = await refresh(client, oauth.None(), tokens.refresh_token, oauth.DPoP(client, key.keyPair));
    assert.equal(refreshed.token_type, 'dpop');
    assert.equal(claimsOf(refreshed.access_token).cnf?.jkt, key.jkt);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated as ever');
  });

  it("SEC-35 §5 a public client's refresh token is bound to its key: another key, or no proof, is refused and changes nothing", async () => {
    const client = await publicClient(server);
    const key = await newKey();
    const thief = await newKey();
    const tokens = await codeFlow(client, oauth.None(), oauth.DPoP(client, key.keyPair));
    assert.equal((await server.storage.grants.get(claimsOf(tokens.access_token).gid!))?.dpopJkt, key.jkt, 'the grant records the key');

    assert.equal(await refusedWith(refresh(client, oauth.None(), tokens.refresh_token!, oauth.DPoP(client, thief.keyPair))), 'invalid_grant');
    assert.equal(await refusedWith(refresh(client, oauth.None(), tokens.refresh_token!)), 'invalid_dpop_proof');
    // Neither refusal spent the token or counted as reuse: the holder of the key refreshes as before.
    const refreshed = await refresh(client, oauth.None(), tokens.refresh_token!, oauth.DPoP(client, key.keyPair));
    assert.equal(claimsOf(refreshed.access_token).cnf?.jkt, key.jkt);
  });

  it("§5 a confidential client's refresh token follows its authentication: each access token is bound to the key of the refresh's proof", async () => {
    const { client, auth } = await confidentialClient(server, ['authorization_code', 'refresh_token']);
    const first = await newKey();
    const second = await newKey();
    const tokens = await codeFlow(client, auth, oauth.DPoP(client, first.keyPair));
    assert.equal(claimsOf(tokens.access_token).cnf?.jkt, first.jkt);
    assert.equal((await server.storage.grants.get(claimsOf(tokens.access_token).gid!))?.dpopJkt, undefined, 'the grant is not bound to a key');

    const refreshed = await refresh(client, auth, tokens.refresh_token!, oauth.DPoP(client, second.keyPair));
    assert.equal(refreshed.token_type, 'dpop');
    assert.equal(claimsOf(refreshed.access_token).cnf?.jkt, second.jkt);
  });

  it('§5 bearer clients keep working beside DPoP ones: no proof, token_type Bearer, no cnf', async () => {
    const client = await publicClient(server);
    const tokens = await codeFlow(client, oauth.None());
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(claimsOf(tokens.access_token).cnf, undefined);
    const refreshed = await refresh(client, oauth.None(), tokens.refresh_token!);
    assert.equal(refreshed.token_type, 'bearer');
  });

  it("§5 a public client's grant begun as bearer is bound at its first refresh with a proof: from then on only that key refreshes it", async () => {
    const client = await publicClient(server);
    const key = await newKey();
    const thief = await newKey();
    const tokens = await codeFlow(client, oauth.None());
    const bound = await refresh(client, oauth.None(), tokens.refresh_token!, oauth.DPoP(client, key.keyPair));
    assert.equal(bound.token_type, 'dpop');
    assert.equal(claimsOf(bound.access_token).cnf?.jkt, key.jkt);
    assert.equal((await server.storage.grants.get(claimsOf(bound.access_token).gid!))?.dpopJkt, key.jkt, 'the grant records the key');
    assert.equal(await refusedWith(refresh(client, oauth.None(), bound.refresh_token!)), 'invalid_dpop_proof');
    assert.equal(await refusedWith(refresh(client, oauth.None(), bound.refresh_token!, oauth.DPoP(client, thief.keyPair))), 'invalid_grant');
    const again = await refresh(client, oauth.None(), bound.refresh_token!, oauth.DPoP(client, key.keyPair));
    assert.equal(claimsOf(again.access_token).cnf?.jkt, key.jkt);
  });

  it('§5 client_credentials with a proof: a DPoP-bound token for the machine client', async () => {
    const { client, auth } = await confidentialClient(server, ['client_credentials']);
    const key = await newKey('EdDSA');
    const tokens = await clientCredentials(server, client, auth, oauth.DPoP(client, key.keyPair));
    assert.equal(tokens.token_type, 'dpop');
    assert.equal(claimsOf(tokens.access_token).cnf?.jkt, key.jkt);
  });

  it('§6.2 introspection of a DPoP-bound token returns cnf.jkt and token_type DPoP; of a bearer token, neither cnf nor DPoP', async () => {
    const { client, auth } = await confidentialClient(server, ['client_credentials']);
    const key = await newKey();
    const issue = async (DPoP?: oauth.DPoPHandle) => clientCredentials(server, client, auth, DPoP);
    const introspect = async (token: string) => oauth.processIntrospectionResponse(server.as, client, await oauth.introspectionRequest(server.as, client, auth, token, INSECURE));

    const bound = await introspect((await issue(oauth.DPoP(client, key.keyPair))).access_token);
    assert.equal(bound.active, true);
    assert.deepEqual(bound.cnf, { jkt: key.jkt });
    assert.equal(bound.token_type, 'DPoP');

    const bearer = await introspect((await issue()).access_token);
    assert.equal(bearer.active, true);
    assert.equal(bearer.cnf, undefined);
    assert.equal(bearer.token_type, 'Bearer');
  });
});
