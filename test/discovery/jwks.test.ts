import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { publicJwk } from '../../src/authorization/endpoints/jwks.ts';
import { createTestApp } from '../helpers/app.ts';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

describe('JWKS (RFC 7517, SEC-54)', () => {
  it('SEC-54 publishes public keys only, with kid, alg and use=sig', async () => {
    const t = await createTestApp();
    try {
      await t.ctx.keys.rotate(3600_000, 'RS256'); // one EC and one RSA key, so both kinds are checked
      const res = await t.request('/jwks');
      assert.equal(res.status, 200);
      const jwks = (await res.json()) as { keys: Record<string, unknown>[] };
      assert.deepEqual(jwks.keys.map((k) => k.kty).sort(), ['EC', 'RSA']);
      for (const key of jwks.keys) {
        for (const m of PRIVATE_MEMBERS) assert.equal(key[m], undefined, `${String(key.kty)} key exposes ${m}`);
        assert.equal(typeof key.kid, 'string');
        assert.equal(key.use, 'sig');
        assert.ok(key.alg === 'ES256' || key.alg === 'RS256');
      }
    } finally {
      await t.close();
    }
  });

  it('SEC-43 a token the server signs verifies against the published JWKS', async () => {
    const t = await createTestApp();
    try {
      const token = await t.ctx.keys.sign({ iss: t.ctx.config.issuer, sub: 'u' }, 'at+jwt');
      const jwks = (await (await t.request('/jwks')).json()) as { keys: [] };
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: t.ctx.config.issuer });
      assert.equal(payload.sub, 'u');
      assert.equal(protectedHeader.kid, t.ctx.keys.activeKid);
    } finally {
      await t.close();
    }
  });

  it('SEC-54 a retired key stays published during its overlap, then disappears', async () => {
    const t = await createTestApp();
    try {
      const oldKid = t.ctx.keys.activeKid;
      await t.ctx.keys.rotate(60_000);
      const kids = async () => ((await (await t.request('/jwks')).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
      assert.ok((await kids()).includes(oldKid));
      t.clock.advance(61_000);
      await t.ctx.keys.reload();
      assert.ok(!(await kids()).includes(oldKid));
      assert.deepEqual(await kids(), [t.ctx.keys.activeKid]);
    } finally {
      await t.close();
    }
  });

  it('the endpoint drops private members even if a stored key had them', () => {
    const leaked = publicJwk({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'secret', kid: 'k', alg: 'ES256', use: 'sig' });
    assert.deepEqual(leaked, { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k', alg: 'ES256', use: 'sig' });
  });

  it('SEC-24 the JWKS is CORS-readable', async () => {
    const t = await createTestApp();
    try {
      const res = await t.request('/jwks', { headers: { Origin: 'https://inspector.example' } });
      assert.equal(res.headers.get('access-control-allow-origin'), 'https://inspector.example');
    } finally {
      await t.close();
    }
  });
});
