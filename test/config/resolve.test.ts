import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigInput } from '../../src/config/env.ts';
import { ConfigError, resolveConfig } from '../../src/config/resolve.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

const fromEnv = (env: Record<string, string>) => resolveConfig(loadConfigInput(env, undefined));

function refused(make: () => unknown, message: RegExp): void {
  assert.throws(make, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

describe('resolveConfig', () => {
  it('defaults: issuer http://localhost:3000, resource = issuer + /mcp, no secure cookies', () => {
    const c = resolveConfig({});
    assert.equal(c.issuer, 'http://localhost:3000');
    assert.equal(c.resource, 'http://localhost:3000/mcp');
    assert.equal(c.secureCookies, false);
  });

  it('AS-04 the issuer is the public origin with no trailing slash, byte for byte', () => {
    const c = fromEnv({ PORTCULLIS_PUBLIC_URL: 'https://mcp.example.com/' });
    assert.equal(c.issuer, 'https://mcp.example.com');
    assert.equal(c.resource, 'https://mcp.example.com/mcp');
    assert.equal(c.secureCookies, true);
  });

  it('the default public URL follows PORT', () => {
    assert.equal(fromEnv({ PORT: '8080' }).issuer, 'http://localhost:8080');
  });

  it('never mutates its input', () => {
    const input: ConfigInput = { publicUrl: 'https://a.example', scopes: [{ name: 'x', description: 'X' }], defaultScopes: ['x'] };
    const copy = structuredClone(input);
    resolveConfig(input);
    assert.deepEqual(input, copy);
  });

  describe('errors name the setting at fault', () => {
    it('a publicUrl that is not a URL', () => {
      refused(() => resolveConfig({ publicUrl: 'mcp.example.com' }), /^Invalid setting publicUrl/);
    });

    it('SEC-49 a publicUrl with a path, query or fragment', () => {
      refused(() => resolveConfig({ publicUrl: 'https://a.example/base' }), /^Invalid setting publicUrl: give the origin only/);
      refused(() => resolveConfig({ publicUrl: 'https://a.example/?q=1' }), /^Invalid setting publicUrl: it must have no query or fragment/);
    });

    it('SEC-45 plain http on a non-loopback host without the dangerous flag, and accepted with it (GEN-05, AS-21)', () => {
      refused(() => fromEnv({ PORTCULLIS_PUBLIC_URL: 'http://mcp.example.com' }), /^Invalid setting publicUrl: .*PORTCULLIS_DANGEROUSLY_ALLOW_INSECURE_HTTP/);
      const c = fromEnv({ PORTCULLIS_PUBLIC_URL: 'http://mcp.example.com', PORTCULLIS_DANGEROUSLY_ALLOW_INSECURE_HTTP: 'true' });
      assert.equal(c.issuer, 'http://mcp.example.com');
    });

    it('http on loopback needs no flag', () => {
      for (const host of ['localhost:3000', '127.0.0.1:3000', '[::1]:3000']) assert.equal(fromEnv({ PORTCULLIS_PUBLIC_URL: `http://${host}` }).issuer, `http://${host}`);
    });

    it('defaultScopes naming an undeclared scope', () => {
      refused(() => fromEnv({ PORTCULLIS_DEFAULT_SCOPES: 'tasks:read admin' }), /^Invalid setting defaultScopes: admin is not one of the declared scopes/);
    });

    it('declaring a built-in scope', () => {
      refused(() => resolveConfig({ scopes: [{ name: 'offline_access', description: 'x' }], defaultScopes: [] }), /^Invalid setting scopes: offline_access is built in/);
    });

    it('a number that is not a whole number names the environment variable', () => {
      refused(() => fromEnv({ PORT: 'eighty' }), /^Invalid setting PORT: expected a whole number, got "eighty"/);
      refused(() => fromEnv({ PORTCULLIS_ACCESS_TOKEN_TTL: '1.5' }), /^Invalid setting PORTCULLIS_ACCESS_TOKEN_TTL/);
    });

    it('a number out of range names the setting', () => {
      refused(() => fromEnv({ PORTCULLIS_ACCESS_TOKEN_TTL: '10' }), /^Invalid setting accessTokenTtl/);
      refused(() => fromEnv({ PORT: '70000' }), /^Invalid setting port/);
    });

    it('a boolean that is not one', () => {
      refused(() => fromEnv({ PORTCULLIS_REGISTRATION: 'maybe' }), /^Invalid setting PORTCULLIS_REGISTRATION: expected true or false/);
    });

    it('an unknown signing algorithm', () => {
      refused(() => fromEnv({ PORTCULLIS_SIGNING_ALG: 'HS256' }), /^Invalid setting signingAlgorithm/);
    });

    it('an absolute refresh lifetime shorter than the idle one', () => {
      refused(() => resolveConfig({ refreshTokenIdleTtl: 86_400, refreshTokenAbsoluteTtl: 3600 }), /^Invalid setting refreshTokenAbsoluteTtl/);
    });
  });

  it('registration can be switched off and its rate set from the environment', () => {
    const c = fromEnv({ PORTCULLIS_REGISTRATION: 'off', PORTCULLIS_REGISTRATION_PER_MINUTE: '5' });
    assert.deepEqual(c.registration, { enabled: false, perMinute: 5, maxClients: 10_000, unusedClientTtl: 86_400, idleClientTtl: 30 * 86_400 });
  });

  it('HARD-7 the self-registered client cap and expiry are set from the environment and validated', () => {
    const c = fromEnv({
      PORTCULLIS_REGISTRATION_MAX_CLIENTS: '50',
      PORTCULLIS_REGISTRATION_UNUSED_CLIENT_TTL: '3600',
      PORTCULLIS_REGISTRATION_IDLE_CLIENT_TTL: '86400',
    });
    assert.deepEqual(c.registration, { enabled: true, perMinute: 20, maxClients: 50, unusedClientTtl: 3600, idleClientTtl: 86_400 });
    assert.throws(() => fromEnv({ PORTCULLIS_REGISTRATION_MAX_CLIENTS: '0' }), /maxClients/);
    assert.throws(() => fromEnv({ PORTCULLIS_REGISTRATION_UNUSED_CLIENT_TTL: '5' }), /unusedClientTtl/);
  });
});
