import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createResourceServer, type ResourceServer } from '../../src/resource/resource-server.ts';
import { createIntrospectionVerifier } from '../../src/resource/verifiers/introspection.ts';
import { hashSecret } from '../../src/util/crypto.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { inProcessFetch } from '../helpers/oauth-flow.ts';
import { clientRecord } from '../helpers/records.ts';
import { signIn } from '../resource/fixtures.ts';
import { assertDpopChallenge, craftProof, createDpopClientKey, dpopAuth } from './dpop-client.ts';

/**
 * RFC 9449 §6.2: a library resource server verifying tokens by introspection at a Portcullis
 * authorization server learns the binding from the answer's `cnf`, and then wants the proof.
 */
describe('DPoP with the introspection verifier against our own /introspect (RFC 9449 §6.2)', () => {
  let t: TestApp;
  let rs: ResourceServer;
  before(async () => {
    t = await createTestApp();
    await t.ctx.storage.clients.create(
      clientRecord({ clientId: 'cli_rs', secretHash: hashSecret('the-secret'), clientName: 'Resource server', redirectUris: ['https://rs.example/cb'], tokenEndpointAuthMethod: 'client_secret_basic', applicationType: 'web', createdAt: t.clock.now() }),
    );
    const verifier = createIntrospectionVerifier({ issuer: t.ctx.config.issuer, clientId: 'cli_rs', clientSecret: 'the-secret', audience: t.ctx.config.resource, fetch: inProcessFetch(t.app) as typeof fetch, clock: t.clock });
    rs = createResourceServer({ resource: t.ctx.config.resource, authorizationServers: [t.ctx.config.issuer], verifier });
  });
  after(() => t.close());

  const authenticate = (headers: Record<string, string>) => rs.authenticate(new Request(t.ctx.config.resource, { method: 'POST', headers }));

  it('§6.2 a bound token needs its proof; as Bearer it is refused', async () => {
    const key = await createDpopClientKey();
    const who = await signIn(t, { clientId: 'cli_rs', dpopJkt: key.jkt });
    await assertDpopChallenge((await authenticate({ Authorization: `Bearer ${who.token}` })) as Response, 'invalid_token');
    const principal = await authenticate(dpopAuth(who.token, await craftProof(key, { htu: t.ctx.config.resource, accessToken: who.token })));
    assert.ok(!(principal instanceof Response));
    assert.equal(principal.dpopJkt, key.jkt);
  });

  it('a bearer token still works, and is refused under the DPoP scheme', async () => {
    const who = await signIn(t, { clientId: 'cli_rs' });
    const principal = await authenticate({ Authorization: `Bearer ${who.token}` });
    assert.ok(!(principal instanceof Response));
    assert.equal(principal.dpopJkt, undefined);
    const key = await createDpopClientKey();
    await assertDpopChallenge((await authenticate(dpopAuth(who.token, await craftProof(key, { htu: t.ctx.config.resource, accessToken: who.token })))) as Response, 'invalid_token');
  });
});
