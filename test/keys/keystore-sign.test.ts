import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { ecdsaDerToJose, KeyStore } from '../../src/keys/keystore.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { ManualClock } from '../../src/util/clock.ts';

/**
 * The key store signs with node:crypto directly (no JOSE library on the signing path), so these
 * tests check its output with an independent implementation: jose verifies it against the JWKS the
 * server publishes.
 */
describe('KeyStore.sign: compact JWS per RFC 7515 §7.1', () => {
  for (const alg of ['ES256', 'RS256'] as const) {
    it(`RFC 7518 §3.${alg === 'ES256' ? 4 : 3}: a ${alg} token verifies against the published JWKS, with alg, kid and typ in its header`, async () => {
      const storage = await openSqliteStorage(':memory:');
      try {
        const keys = await KeyStore.open(storage, new ManualClock(Date.now()), alg);
        const now = Math.floor(Date.now() / 1000);
        const payload = { iss: 'https://as.example', sub: 'usr_1', aud: 'https://as.example/mcp', scope: 'tasks:read', iat: now, exp: now + 60, note: 'ünïcødé' };
        const token = await keys.sign(payload, 'at+jwt');

        const verified = await jwtVerify(token, createLocalJWKSet(keys.jwks()), { algorithms: [alg], typ: 'at+jwt', issuer: payload.iss, audience: payload.aud });
        assert.deepEqual(verified.payload, payload);
        assert.deepEqual(decodeProtectedHeader(token), { alg, kid: keys.activeKid, typ: 'at+jwt' });
        if (alg === 'ES256') assert.equal(Buffer.from(token.split('.')[2]!, 'base64url').length, 64, 'R || S, not DER');
      } finally {
        await storage.close();
      }
    });
  }

  it('RFC 7515 §5.2: a token whose payload was altered does not verify', async () => {
    const storage = await openSqliteStorage(':memory:');
    try {
      const keys = await KeyStore.open(storage, new ManualClock(Date.now()), 'ES256');
      const [header, , signature] = (await keys.sign({ sub: 'usr_1', scope: 'tasks:read' }, 'at+jwt')).split('.');
      const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'usr_1', scope: 'tasks:write' })).toString('base64url')}.${signature}`;
      await assert.rejects(jwtVerify(forged, createLocalJWKSet(keys.jwks()), { algorithms: ['ES256'] }), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
    } finally {
      await storage.close();
    }
  });
});

describe('ecdsaDerToJose: DER ECDSA-Sig-Value to JWS R || S (RFC 7518 §3.4)', () => {
  it('RFC 7518 §3.4: every converted signature verifies as IEEE P1363, including R or S with leading zero bytes', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    // 600 signatures: about half have a 0x00 sign byte, and a few an R or S shorter than 32 bytes.
    for (let i = 0; i < 600; i++) {
      const data = randomBytes(64);
      const jose = ecdsaDerToJose(sign('sha256', data, privateKey));
      assert.equal(jose.length, 64);
      assert.ok(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, jose), `signature ${i}`);
    }
  });

  it('pads a short R and drops the sign byte of S', () => {
    const r = Buffer.alloc(31, 0x11);
    const s = Buffer.concat([Buffer.from([0x00, 0x80]), Buffer.alloc(31, 0x22)]);
    const der = Buffer.concat([Buffer.from([0x30, 4 + r.length + s.length, 0x02, r.length]), r, Buffer.from([0x02, s.length]), s]);
    assert.deepEqual(ecdsaDerToJose(der), Buffer.concat([Buffer.from([0x00]), r, s.subarray(1)]));
  });

  it('refuses what is not a DER P-256 signature', () => {
    assert.throws(() => ecdsaDerToJose(Buffer.from([0x31, 0x00])));
    assert.throws(() => ecdsaDerToJose(Buffer.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x05, 0x01])), 'INTEGER longer than the SEQUENCE');
    const long = Buffer.concat([Buffer.from([0x30, 0x26, 0x02, 0x21, 0x01]), Buffer.alloc(32, 1), Buffer.from([0x02, 0x01, 0x01])]);
    assert.throws(() => ecdsaDerToJose(long), 'an R of 33 significant bytes is not P-256');
  });
});
