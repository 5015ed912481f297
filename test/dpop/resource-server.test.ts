import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDpopNonces } from '../../src/dpop/nonces.ts';
import { inMemoryReplayCheck } from '../../src/dpop/proof.ts';
import { proofTarget } from '../../src/resource/dpop.ts';
import { createResourceServer, type ResourceServerOptions } from '../../src/resource/resource-server.ts';
import { createTestIssuer } from '../resource/test-issuer.ts';
import { assertDpopChallenge, craftProof, createDpopClientKey, dpopAuth } from './dpop-client.ts';

const RESOURCE = 'https://mcp.example/mcp';

/** The library core (`createResourceServer`) with DPoP options, tokens from a third-party issuer (JWKS). */
async function setup(dpop: ResourceServerOptions['dpop'] = {}) {
  const as = await createTestIssuer({ resource: RESOURCE });
  const rs = createResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer], verifier: as.verifier(), dpop });
  const key = await createDpopClientKey();
  const bound = await as.sign({ claims: { cnf: { jkt: key.jkt } } });
  const request = (headers: Record<string, string>, url = RESOURCE) => new Request(url, { method: 'POST', headers });
  const proof = (claims: { nonce?: string; htu?: string } = {}) => craftProof(key, { htu: RESOURCE, accessToken: bound, ...claims });
  return { as, rs, key, bound, request, proof };
}

describe('createResourceServer with DPoP (RFC 9449 §7)', () => {
  it('§7.1 accepts a bound JWT (cnf.jkt from the JWKS verifier) with its proof; the principal names the key', async () => {
    const { rs, key, bound, request, proof } = await setup();
    const principal = await rs.authenticate(request(dpopAuth(bound, await proof())));
    assert.ok(!(principal instanceof Response));
    assert.equal(principal.dpopJkt, key.jkt);
    assert.equal(principal.token, bound);
  });

  it('RFC 7800 / RFC 8705 a token bound by a confirmation other than a well-formed cnf.jkt (an mTLS thumbprint, a number, a string) is refused under either scheme, never taken for a bearer token', async () => {
    const { as, rs, key, request } = await setup();
    for (const cnf of [{ 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' }, { jkt: 123 }, { jkt: 'short' }, 'a string', { jwk: key.keyPair.publicJwk }]) {
      const token = await as.sign({ claims: { cnf } });
      const asBearer = await rs.authenticate(request({ Authorization: `Bearer ${token}` }));
      assert.ok(asBearer instanceof Response && asBearer.status === 401, `as Bearer with cnf ${JSON.stringify(cnf)}`);
      const asDpop = await rs.authenticate(request(dpopAuth(token, await craftProof(key, { htu: RESOURCE, accessToken: token }))));
      assert.ok(asDpop instanceof Response && asDpop.status === 401, `as DPoP with cnf ${JSON.stringify(cnf)}`);
    }
    const unbound = await as.sign({ claims: { cnf: null } });
    assert.ok(!((await rs.authenticate(request({ Authorization: `Bearer ${unbound}` }))) instanceof Response), 'cnf: null binds nothing');
  });

  it('a caller that gives only headers (the pre-DPoP signature) keeps bearer tokens working, and DPoP is refused: no htm/htu to check', async () => {
    const { as, rs, bound, proof } = await setup();
    const bearer = await as.sign();
    assert.ok(!((await rs.authenticate({ headers: new Headers({ Authorization: `Bearer ${bearer}` }) })) instanceof Response));
    await assertDpopChallenge((await rs.authenticate({ headers: new Headers(dpopAuth(bound, await proof())) })) as Response, 'invalid_dpop_proof');
  });

  it('§9 nonces from options: use_dpop_nonce with DPoP-Nonce, then the proof with it passes', async () => {
    const clock = { now: () => Date.now() };
    const { rs, bound, request, proof } = await setup({ nonces: createDpopNonces({ key: 'a shared nonce key of enough length', clock }) });
    const challenged = (await rs.authenticate(request(dpopAuth(bound, await proof())))) as Response;
    const nonce = challenged.headers.get('DPoP-Nonce');
    await assertDpopChallenge(challenged, 'use_dpop_nonce');
    assert.ok(nonce);
    assert.ok(!((await rs.authenticate(request(dpopAuth(bound, await proof({ nonce }))))) instanceof Response));
  });

  it('§11.1 a replay store shared by two resource servers (two instances): a proof spent at one is refused at the other', async () => {
    const replay = inMemoryReplayCheck({ now: () => Date.now() });
    const { as, rs, bound, request, proof } = await setup({ replay });
    const other = createResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer], verifier: as.verifier(), dpop: { replay } });
    const p = await proof();
    assert.ok(!((await rs.authenticate(request(dpopAuth(bound, p)))) instanceof Response));
    await assertDpopChallenge((await other.authenticate(request(dpopAuth(bound, p)))) as Response, 'invalid_dpop_proof');
  });

  it('required: the PRM says so, bearer tokens and requests without credentials get DPoP challenges; algorithms are configurable', async () => {
    const { as, rs } = await setup({ required: true, algorithms: ['ES256'] });
    assert.equal(rs.metadata.dpop_bound_access_tokens_required, true);
    assert.deepEqual(rs.metadata.dpop_signing_alg_values_supported, ['ES256']);
    const params = await assertDpopChallenge((await rs.authenticate(new Request(RESOURCE))) as Response, undefined);
    assert.equal(params['algs'], 'ES256');
    await assertDpopChallenge((await rs.authenticate(new Request(RESOURCE, { headers: { Authorization: `Bearer ${await as.sign()}` } }))) as Response, 'invalid_token');
  });
});

describe('which URL htu must name (proofTarget)', () => {
  it('the resource URL on its own path, whatever host the request came to (behind a proxy)', () => {
    assert.equal(proofTarget(RESOURCE, 'http://10.0.0.5:8080/mcp'), RESOURCE);
    assert.equal(proofTarget(RESOURCE, '/mcp?x=1'), RESOURCE);
  });

  it("another route: the resource's origin and that route's path, never the request's host", () => {
    assert.equal(proofTarget(RESOURCE, 'http://evil.example/mcp/admin'), 'https://mcp.example/mcp/admin');
    assert.equal(proofTarget(RESOURCE, '//evil.example/other'), 'https://mcp.example/other');
  });
});
