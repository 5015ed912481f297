import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { assertCompleted, runClientFlow } from './client-flow.ts';
import { startClientsHarness, type ClientsHarness } from './harness.ts';
import { CHATGPT, type ClientProfile } from './profiles.ts';

/**
 * ChatGPT identifies itself by a client ID metadata document that prefers `private_key_jwt` (its public
 * keys inline as `jwks` or at a `jwks_uri`), lists the legacy callback and a per-connector one
 * (`https://chatgpt.com/connector/oauth/<id>`), takes its scopes from the challenge / PRM and needs
 * `offline_access` for a refresh token (field report §3; notra#498).
 */
describe('ChatGPT: CIMD with private_key_jwt and per-connector callback URLs', () => {
  let h: ClientsHarness;
  before(async () => {
    h = await startClientsHarness();
  });
  after(() => h.close());

  it('SEC-29 / AS-06 keys inline (jwks): the per-connector callback is accepted, the code and the refresh are authenticated with assertions, tools listed', async () => {
    const run = await runClientFlow(h, CHATGPT);
    assertCompleted(h, run);
    assert.equal(run.authorization.callback.origin + run.authorization.callback.pathname, 'https://chatgpt.com/connector/oauth/c-6f1d2a9e');
    const asked = run.authorization.authorizationUrl.searchParams.get('scope')!.split(' ');
    assert.ok(run.discovery.challenge['scope']!.split(' ').every((s) => asked.includes(s)), 'the challenge scope is asked for');
    assert.ok(asked.includes('offline_access'));
    assert.ok(decodeJwt(run.tokens.access_token).scope, 'the token carries its scope');
  });

  it('SEC-29 keys at a jwks_uri, the legacy connector_platform_oauth_redirect callback', async () => {
    const profile: ClientProfile = {
      ...CHATGPT,
      registration: { kind: 'cimd', path: '/oauth/chatgpt-jwks-uri-client.json', authMethod: 'private_key_jwt', keys: 'jwks_uri' },
      requestRedirectUri: 'https://chatgpt.com/connector_platform_oauth_redirect',
    };
    const run = await runClientFlow(h, profile);
    assertCompleted(h, run);
    assert.ok(h.documents.hits('/oauth/chatgpt-jwks-uri-client.json.jwks') >= 1, 'the keys were fetched from the jwks_uri');
    assert.equal(run.authorization.callback.origin + run.authorization.callback.pathname, 'https://chatgpt.com/connector_platform_oauth_redirect');
  });
});
