import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { createEmbeddedKeyCache } from '../../src/dpop/proof-keys.ts';

describe('DPoP proof keys, imported once per client key (RFC 9449 §4.3 item 5)', () => {
  it('the same JWK and alg give the same imported key and its RFC 7638 thumbprint; another JWK its own', async () => {
    const keys = createEmbeddedKeyCache();
    const a = await exportJWK((await generateKeyPair('ES256')).publicKey);
    const b = await exportJWK((await generateKeyPair('ES256')).publicKey);
    const first = await keys(a, 'ES256');
    assert.ok(first);
    assert.equal(first.jkt, await calculateJwkThumbprint(a));
    assert.equal(await keys({ ...a }, 'ES256'), first, 'imported once');
    assert.equal((await keys(b, 'ES256'))?.jkt, await calculateJwkThumbprint(b));
  });

  it('refuses what is not an asymmetric public key for the alg: a symmetric key, a key of another type', async () => {
    const keys = createEmbeddedKeyCache();
    assert.equal(await keys({ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA' }, 'ES256'), null);
    const ec = await exportJWK((await generateKeyPair('ES256')).publicKey);
    assert.equal(await keys(ec, 'RS256'), null);
  });

  it('holds at most maxKeys keys: the oldest is imported again when it comes back', async () => {
    const keys = createEmbeddedKeyCache(2);
    const jwks = await Promise.all([1, 2, 3].map(async () => exportJWK((await generateKeyPair('ES256')).publicKey)));
    const first = await keys(jwks[0]!, 'ES256');
    await keys(jwks[1]!, 'ES256');
    await keys(jwks[2]!, 'ES256');
    const again = await keys(jwks[0]!, 'ES256');
    assert.notEqual(again, first);
    assert.equal(again?.jkt, first?.jkt);
  });

  it('RSA: 2048 to 4096 bits with exponent 65537 only; a huge exponent or modulus would cost milliseconds per proof', async () => {
    const keys = createEmbeddedKeyCache();
    const rsa = await exportJWK((await generateKeyPair('RS256', { modulusLength: 2048 })).publicKey);
    assert.ok(await keys(rsa, 'RS256'));
    assert.equal(await keys({ ...rsa, e: 'AQAAAQ' }, 'RS256'), null, 'another exponent');
    const big = await exportJWK((await generateKeyPair('RS256', { modulusLength: 8192 })).publicKey);
    assert.equal(await keys(big, 'RS256'), null, '8192-bit modulus');
  });
});
