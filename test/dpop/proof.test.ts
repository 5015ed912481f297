import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createDpopNonces } from '../../src/dpop/nonces.ts';
import { accessTokenHash, inMemoryReplayCheck, verifyDpopProof, type DpopProofRequest } from '../../src/dpop/proof.ts';
import { ManualClock } from '../../src/util/clock.ts';

const URL_ = 'https://mcp.example.com/mcp';
const NOW = Date.parse('2026-12-04T12:00:00Z');

interface Signer {
  privateKey: CryptoKey;
  jwk: JWK;
  jkt: string;
}

async function signer(alg = 'ES256'): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

let jtiCounter = 0;
async function proof(s: Signer, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, alg = 'ES256'): Promise<string> {
  return new SignJWT({ htm: 'POST', htu: URL_, iat: Math.floor(NOW / 1000), jti: `jti-${++jtiCounter}`, ...claims })
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk: s.jwk, ...header })
    .sign(s.privateKey);
}

function request(p: string | undefined, extra: Partial<DpopProofRequest> = {}): DpopProofRequest {
  return { proof: p, method: 'POST', url: URL_, now: NOW, replay: inMemoryReplayCheck(new ManualClock(NOW)), ...extra };
}

async function refusal(p: string | undefined, extra: Partial<DpopProofRequest> = {}): Promise<string> {
  const result = await verifyDpopProof(request(p, extra));
  assert.equal(result.ok, false, 'the proof must be refused');
  return result.ok ? '' : result.error;
}

describe('DPoP proof verification (RFC 9449 §4.3)', () => {
  it('accepts a good proof and returns the key thumbprint (RFC 7638)', async () => {
    const s = await signer();
    const result = await verifyDpopProof(request(await proof(s)));
    assert.ok(result.ok);
    assert.equal(result.jkt, s.jkt);
  });

  it('accepts EdDSA, RS256 and PS256 keys, and ignores the query and fragment of htu and of the URL', async () => {
    for (const alg of ['EdDSA', 'RS256', 'PS256']) {
      const s = await signer(alg);
      const result = await verifyDpopProof(request(await proof(s, { htu: 'https://MCP.example.com:443/mcp?x=1' }, {}, alg), { url: URL_ + '?session=2#f' }));
      assert.ok(result.ok, alg);
    }
  });

  it('refuses a missing proof, two proofs joined, and garbage', async () => {
    const s = await signer();
    const p = await proof(s);
    assert.equal(await refusal(undefined), 'invalid_dpop_proof');
    assert.equal(await refusal(`${p}, ${p}`), 'invalid_dpop_proof');
    assert.equal(await refusal('a.b.c'), 'invalid_dpop_proof');
  });

  it('refuses the wrong typ, an algorithm off the list, and a private or symmetric key in the header', async () => {
    const s = await signer();
    assert.equal(await refusal(await proof(s, {}, { typ: 'JWT' })), 'invalid_dpop_proof');
    assert.equal(await refusal(await proof(s), { algorithms: ['EdDSA'] }), 'invalid_dpop_proof');
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    assert.equal(await refusal(await proof({ ...s, privateKey }, {}, { jwk: privateJwk })), 'invalid_dpop_proof');
    const hmacProof = await new SignJWT({ htm: 'POST', htu: URL_, iat: NOW / 1000, jti: 'h' })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', ...({ jwk: { kty: 'oct', k: 'c2VjcmV0' } } as object) })
      .sign(new TextEncoder().encode('secret-secret-secret-secret-secret'));
    assert.equal(await refusal(hmacProof, { algorithms: ['HS256', 'ES256'] }), 'invalid_dpop_proof');
  });

  it('refuses a proof signed by another key than the one in its header', async () => {
    const s = await signer();
    const other = await signer();
    assert.equal(await refusal(await proof({ ...s, privateKey: other.privateKey })), 'invalid_dpop_proof');
  });

  it('refuses the wrong htm and htu', async () => {
    const s = await signer();
    assert.equal(await refusal(await proof(s, { htm: 'GET' })), 'invalid_dpop_proof');
    assert.equal(await refusal(await proof(s, { htu: 'https://mcp.example.com/other' })), 'invalid_dpop_proof');
    assert.equal(await refusal(await proof(s, { htu: 'https://evil.example.com/mcp' })), 'invalid_dpop_proof');
  });

  it('refuses a stale iat and one too far in the future', async () => {
    const s = await signer();
    assert.equal(await refusal(await proof(s, { iat: NOW / 1000 - 301 })), 'invalid_dpop_proof');
    assert.equal(await refusal(await proof(s, { iat: NOW / 1000 + 61 })), 'invalid_dpop_proof');
    assert.ok((await verifyDpopProof(request(await proof(s, { iat: NOW / 1000 - 290 })))).ok);
  });

  it('refuses a replayed proof (single-use jti)', async () => {
    const s = await signer();
    const replay = inMemoryReplayCheck(new ManualClock(NOW));
    const p = await proof(s);
    assert.ok((await verifyDpopProof(request(p, { replay }))).ok);
    assert.equal(await refusal(p, { replay }), 'invalid_dpop_proof');
  });

  it('§11.1 the in-memory replay check refuses when full of live entries instead of forgetting one (which would reopen a replay)', async () => {
    const clock = new ManualClock(NOW);
    const replay = inMemoryReplayCheck(clock, 2);
    assert.equal(await replay('a', NOW + 1000), true);
    assert.equal(await replay('b', NOW + 1000), true);
    assert.equal(await replay('c', NOW + 1000), false, 'full of live entries');
    assert.equal(await replay('a', NOW + 1000), false, 'a is still remembered');
    clock.advance(2000);
    assert.equal(await replay('c', NOW + 5000), true, 'expired entries make room');
  });

  it('checks ath against the access token at a resource server', async () => {
    const s = await signer();
    const token = 'the-access-token';
    assert.ok((await verifyDpopProof(request(await proof(s, { ath: accessTokenHash(token) }), { accessToken: token }))).ok);
    assert.equal(await refusal(await proof(s), { accessToken: token }), 'invalid_dpop_proof');
    assert.equal(await refusal(await proof(s, { ath: accessTokenHash('another') }), { accessToken: token }), 'invalid_dpop_proof');
  });

  it('asks for a nonce when one is required, accepts a current one, refuses a forged or expired one', async () => {
    const s = await signer();
    const clock = new ManualClock(NOW);
    const nonces = createDpopNonces({ key: 'k'.repeat(32), clock, stepSeconds: 60 });
    assert.equal(await refusal(await proof(s), { nonces }), 'use_dpop_nonce');
    const nonce = nonces.current();
    assert.ok((await verifyDpopProof(request(await proof(s, { nonce }), { nonces }))).ok);
    assert.equal(await refusal(await proof(s, { nonce: nonce.slice(0, -1) + (nonce.endsWith('A') ? 'B' : 'A') }), { nonces }), 'use_dpop_nonce');
    const otherServer = createDpopNonces({ key: 'x'.repeat(32), clock, stepSeconds: 60 });
    assert.equal(await refusal(await proof(s, { nonce: otherServer.current() }), { nonces }), 'use_dpop_nonce');
    clock.advance(121_000);
    assert.equal(await refusal(await proof(s, { nonce, iat: clock.now() / 1000 }), { nonces, now: clock.now() }), 'use_dpop_nonce');
  });
});
