import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runCli, tempDatabase } from '../cli/helpers.ts';

/**
 * `portcullis start --authorization-server …`: a bad resource-only setting stops the start with one
 * line naming the setting, before anything listens or is written. (A good one is started for real
 * in test/e2e/portcullis-as.test.ts.)
 */
describe('portcullis start in resource-only mode: refusals at start', () => {
  const db = tempDatabase();
  const env = { PORT: '0', PORTCULLIS_DATABASE: db.database };
  after(() => db.cleanup());

  const refused = async (args: string[], extraEnv: Record<string, string>, message: RegExp) => {
    const r = await runCli(['start', ...args], { ...env, ...extraEnv });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack');
    assert.equal(r.stdout, '', 'nothing started');
  };

  it('an http issuer on a network host', async () => {
    await refused(['--authorization-server', 'http://auth.example.com'], {}, /^Invalid setting authorizationServer\.issuer: http:\/\/auth\.example\.com is plain http on a non-loopback host/);
  });

  it('the flag wins over PORTCULLIS_AUTHORIZATION_SERVER', async () => {
    await refused(['--authorization-server', 'http://flag.example.com'], { PORTCULLIS_AUTHORIZATION_SERVER: 'https://env.example.com' }, /http:\/\/flag\.example\.com is plain http/);
  });

  it('--verifier introspection without client credentials', async () => {
    await refused(['--authorization-server', 'https://auth.example.com', '--verifier', 'introspection'], {}, /introspection\.clientId: required .*PORTCULLIS_INTROSPECTION_CLIENT_ID/);
  });

  it('an unknown --verifier', async () => {
    await refused(['--authorization-server', 'https://auth.example.com', '--verifier', 'magic'], {}, /^Invalid setting authorizationServer\.verifier/);
  });

  it('the stytch verifier without STYTCH_PROJECT_ID', async () => {
    await refused([], { STYTCH_DOMAIN: 'https://rustic-kilogram-6347.customers.stytch.com' }, /identityProvider\.stytch\.projectId: required by the stytch verifier.*STYTCH_PROJECT_ID/);
  });

  it('--help documents the resource-only flags', async () => {
    const r = await runCli(['start', '--help'], env);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--authorization-server <issuer>/);
    assert.match(r.stdout, /--verifier <kind>/);
    assert.match(r.stdout, /--jwks-url <url>/);
  });
});
